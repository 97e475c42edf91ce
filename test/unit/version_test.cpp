// pgview_auto — GoogleTest unit tests of version comparison (src/util/version).
#include "util/version.hpp"

#include <gtest/gtest.h>

namespace {

using pgview::compare_versions;

TEST(CompareVersions, NumbersNotStrings) {
    EXPECT_GT(compare_versions("0.10.0", "0.6.0"), 0); // 0.6.0's strcmp said the opposite
    EXPECT_LT(compare_versions("0.6.0", "0.10.0"), 0);
    EXPECT_GT(compare_versions("1.0.0", "0.99.99"), 0);
}

TEST(CompareVersions, EqualAndMissingParts) {
    EXPECT_EQ(compare_versions("0.6.0", "0.6.0"), 0);
    EXPECT_EQ(compare_versions("0.6", "0.6.0"), 0);
    EXPECT_LT(compare_versions("0.6", "0.6.1"), 0);
    EXPECT_GT(compare_versions("0.7.0", "0.6"), 0);
}

TEST(CompareVersions, SuffixesIgnored) {
    EXPECT_EQ(compare_versions("0.7.0beta", "0.7.0"), 0);
    EXPECT_LT(compare_versions("0.6.0-dev", "0.7.0"), 0);
}

} // namespace
