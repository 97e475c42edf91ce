// pgview_auto — pgview_create and pgview_drop: views and materialized views
// from SQL text, with the caller's rights.
#pragma once

#include <string>
#include <vector>

extern "C" {
#include "postgres.h"
}

namespace pgview::create {

struct CreateRequest {
    std::string name;
    std::string query;
    std::string kind;
    bool or_replace;
    bool if_not_exists;
    bool with_data;
    std::vector<std::string> options;
    std::vector<std::string> unique_key;
    // unique_key => '{}' (not NULL): a table view without a key, its rows
    // compared whole (full difference); none is derived from the query.
    bool no_key = false;
};

Oid create_view(const CreateRequest &request);
// false: not there and if_exists (a NOTICE says so).
bool drop_view(const std::string &name, bool cascade, bool if_exists);

} // namespace pgview::create
