// The pre-parse limits: serde_json's depth of 128 and its "number out of range", with the line and
// column of the offending character; strings are skipped, whatever they contain.
#include <gtest/gtest.h>

#include "server/json_limits.h"

namespace tgi::server {
namespace {

TEST(JsonLimits, DepthUpTo128IsAccepted) {
  EXPECT_EQ(json_limit_violation(std::string(128, '[') + std::string(128, ']')), std::nullopt);
  EXPECT_EQ(json_limit_violation(std::string(129, '[') + std::string(129, ']')),
            "recursion limit exceeded at line 1 column 129");
  // Closing brackets bring the depth back down: many siblings are fine.
  std::string siblings = "[";
  for (int i = 0; i < 1000; ++i) siblings += "{\"a\":[1]},";
  siblings += "1]";
  EXPECT_EQ(json_limit_violation(siblings), std::nullopt);
}

TEST(JsonLimits, BracketsInsideStringsDoNotCount) {
  const std::string inside = "{\"a\":\"" + std::string(500, '[') + "\\\"" + std::string(500, '{') + "\"}";
  EXPECT_EQ(json_limit_violation(inside), std::nullopt);
}

TEST(JsonLimits, ReportsTheLineAndColumn) {
  EXPECT_EQ(json_limit_violation("{\n  \"a\": 1e400\n}"), "number out of range at line 2 column 13");
  EXPECT_EQ(json_limit_violation("{\"a\":[\n" + std::string(128, '[')),
            "recursion limit exceeded at line 2 column 127");
}

TEST(JsonLimits, OnlyNumbersADoubleCannotHoldAreOutOfRange) {
  EXPECT_EQ(json_limit_violation("[1e308, -1.7e308, 1e-400, 123456789012345678901234567890]"), std::nullopt);
  EXPECT_EQ(json_limit_violation("[-1e309]"), "number out of range at line 1 column 8");
  EXPECT_EQ(json_limit_violation("[" + std::string(400, '9') + "]"),
            "number out of range at line 1 column 402");
}

TEST(JsonLimits, TextThatIsNotJsonIsLeftToTheParser) {
  EXPECT_EQ(json_limit_violation(""), std::nullopt);
  EXPECT_EQ(json_limit_violation("\"unterminated"), std::nullopt);
  EXPECT_EQ(json_limit_violation("]]]]"), std::nullopt);
}

}  // namespace
}  // namespace tgi::server
