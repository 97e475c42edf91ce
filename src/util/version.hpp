// pgview_auto — extension versions compared as numbers ("0.10.0" comes after
// "0.6.0"; 0.6.0 compared them as strings). Pure C++: unit-tested.
#pragma once

namespace pgview {

// < 0, 0, > 0 as a is older than, the same as, or newer than b. Parts are
// compared as numbers; a missing part counts as 0; anything after a part's
// digits is ignored.
int compare_versions(const char *a, const char *b);

} // namespace pgview
