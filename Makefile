# pgview_auto — PGXS build of a C++ PostgreSQL extension.
EXTENSION  = pgview_auto
MODULE_big = pgview_auto

SRCS := $(sort $(wildcard src/*.cpp src/*/*.cpp))
PG_CPPFLAGS = -I$(srcdir)/src
OBJS := $(SRCS:.cpp=.o)
DATA := $(wildcard sql/pgview_auto--*.sql)

# pg_regress tests (sql/ + expected/), isolation specs and TAP tests.
# `make installcheck` runs them against a server you already have;
# scripts/test.sh builds a throwaway server and runs everything.
REGRESS       = $(sort $(basename $(notdir $(filter-out sql/$(EXTENSION)--%,$(wildcard sql/*.sql)))))
# Tests that need the worker or prepared transactions say so ("-- requires:");
# against a server without them, installcheck leaves them out and says which.
installcheck: REGRESS = $(shell PATH="$(bindir):$$PATH" bash $(srcdir)/scripts/regress_tests.sh $(srcdir)/sql)
REGRESS_OPTS  = --inputdir=. --load-extension=$(EXTENSION)
ISOLATION     = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=$(EXTENSION)
TAP_TESTS     = 1

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)

# C++17; the server headers are system headers for us (their warnings are not ours).
# -MMD -MP: objects are rebuilt when a header they include changes.
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-register -fno-omit-frame-pointer -MMD -MP \
              -isystem $(shell $(PG_CONFIG) --includedir-server)
SHLIB_LINK += -lstdc++

# PGXS would also emit LLVM bitcode for JIT (clang++ on C++ sources); our code gains nothing from it.
override with_llvm = no

include $(PGXS)

# The regress database name differs from the default so parallel runs do not collide.
prove_installcheck = PATH="$(bindir):$(CURDIR):$$PATH" PG_REGRESS='$(top_builddir)/src/test/regress/pg_regress' \
    PERL5LIB="$(pgxsdir)/src/test/perl:$$PERL5LIB" $(PROVE) $(PG_PROVE_FLAGS) $(PROVE_FLAGS) $(or $(PROVE_TESTS),test/t/*.pl)

-include $(OBJS:.o=.d)

# Unit tests of the pure C++ graph and its drawing (GoogleTest); no PostgreSQL involved.
UNIT_SRCS = test/unit/graph_test.cpp test/unit/render_test.cpp test/unit/version_test.cpp \
            src/graph/dependency_graph.cpp src/graph/picture.cpp src/graph/render.cpp src/graph/render_dot.cpp \
            src/graph/render_mermaid.cpp src/util/version.cpp
unit-test: test/unit/unit_tests
	./test/unit/unit_tests
test/unit/unit_tests: $(UNIT_SRCS) src/graph/dependency_graph.hpp src/graph/picture.hpp src/graph/render.hpp \
                      src/util/version.hpp
	$(CXX) -std=c++17 -Wall -Wextra -O1 -g -Isrc -o $@ $(UNIT_SRCS) -lgtest -lgtest_main -pthread
EXTRA_CLEAN = test/unit/unit_tests results output_iso tmp_check log $(OBJS:.o=.d)
.PHONY: unit-test
