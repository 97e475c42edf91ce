// pgview_auto — see version.hpp.
#include "util/version.hpp"

#include <cstdlib>
#include <cstring>

namespace pgview {

namespace {
// The next part after the one that ended at `end`.
const char *next_part(const char *end) {
    const char *dot = std::strchr(end, '.');
    return dot != nullptr ? dot + 1 : end + std::strlen(end);
}
} // namespace

int compare_versions(const char *a, const char *b) {
    while (*a != '\0' || *b != '\0') {
        char *end_a, *end_b;
        long x = std::strtol(a, &end_a, 10), y = std::strtol(b, &end_b, 10);
        if (x != y)
            return x < y ? -1 : 1;
        a = next_part(end_a);
        b = next_part(end_b);
    }
    return 0;
}

} // namespace pgview
