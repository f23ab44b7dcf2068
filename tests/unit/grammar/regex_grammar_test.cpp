// Regex constraints as grammars: every regex of the structured-output data set becomes a grammar with
// one lexeme, which must accept its valid strings (and every prefix of them as a viable prefix) and
// reject its invalid ones.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "grammar/grammar.h"
#include "grammar/regex_parser.h"
#include "shared_structured_data.h"

namespace tgi::grammar {
namespace {

const char* kRegexPath = TGI_SOURCE_DIR "/../shared/structured/regex.json";

std::vector<nlohmann::json> load_regexes() {
  return testing::load_json_array(kRegexPath);
}

// Every byte prefix of a valid string is viable, including those that end inside a UTF-8 character:
// the matcher works on bytes.
TEST(RegexGrammar, EveryDataSetRegexAsOneLexeme) {
  const std::vector<nlohmann::json> entries = load_regexes();
  if (entries.empty()) GTEST_SKIP() << "no " << kRegexPath;
  EXPECT_GE(entries.size(), 24u);
  size_t valid_checked = 0;
  size_t invalid_checked = 0;
  for (const nlohmann::json& entry : entries) {
    const std::string id = entry.at("id").get<std::string>();
    const std::string pattern = entry.at("regex").get<std::string>();
    SCOPED_TRACE(id + ": " + pattern);
    Result<Regex> regex = parse_regex(pattern);
    ASSERT_TRUE(regex.ok()) << regex.error().message;
    GrammarBuilder builder;
    const uint32_t root = builder.new_rule("root");
    builder.add_alternative(root, {builder.lexeme(*regex)});
    Result<Grammar> grammar = builder.build(root);
    ASSERT_TRUE(grammar.ok()) << grammar.error().message;
    EXPECT_EQ(grammar->lexeme_count(), 1u);

    for (const auto& item : entry.at("valid")) {
      const std::string text = item.get<std::string>();
      EXPECT_TRUE(grammar->accepts(text)) << "valid: " << text;
      for (size_t n = 0; n <= text.size(); ++n) {
        EXPECT_TRUE(grammar->accepts_prefix(text.substr(0, n)))
            << "prefix of " << text << ": " << text.substr(0, n);
      }
      ++valid_checked;
    }
    for (const auto& item : entry.at("invalid")) {
      const std::string text = item.get<std::string>();
      EXPECT_FALSE(grammar->accepts(text)) << "invalid: " << text;
      ++invalid_checked;
    }
  }
  EXPECT_GE(valid_checked, 24u);
  EXPECT_GE(invalid_checked, 24u);
}

// A string with a byte no match can contain is not even a viable prefix.
TEST(RegexGrammar, DeadPrefixIsRejected) {
  Result<Regex> regex = parse_regex("(yes|no)");
  ASSERT_TRUE(regex.ok()) << regex.error().message;
  GrammarBuilder builder;
  const uint32_t root = builder.new_rule("root");
  builder.add_alternative(root, {builder.lexeme(*regex)});
  Result<Grammar> grammar = builder.build(root);
  ASSERT_TRUE(grammar.ok()) << grammar.error().message;
  EXPECT_TRUE(grammar->accepts_prefix(""));
  EXPECT_TRUE(grammar->accepts_prefix("ye"));
  EXPECT_FALSE(grammar->accepts_prefix("yx"));
  EXPECT_FALSE(grammar->accepts_prefix("yess"));
  EXPECT_FALSE(grammar->accepts(""));
}

}  // namespace
}  // namespace tgi::grammar
