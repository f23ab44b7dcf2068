#include "grammar/regex_parser.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "grammar/lexeme_dfa.h"

namespace tgi::grammar {
namespace {

using ::testing::HasSubstr;

// Whether `pattern` (full match) accepts `text`; a parse or build failure fails the test.
bool full_match(std::string_view pattern, std::string_view text) {
  auto regex = parse_regex(pattern);
  EXPECT_TRUE(regex.ok()) << pattern << ": " << regex.error().message;
  if (!regex.ok()) return false;
  auto dfa = LexemeDfa::build(*regex);
  EXPECT_TRUE(dfa.ok()) << pattern << ": " << dfa.error().message;
  return dfa.ok() && dfa->matches(text);
}

bool search_match(std::string_view pattern, std::string_view text) {
  auto regex = parse_search_pattern(pattern);
  EXPECT_TRUE(regex.ok()) << pattern << ": " << regex.error().message;
  if (!regex.ok()) return false;
  auto dfa = LexemeDfa::build(*regex);
  EXPECT_TRUE(dfa.ok()) << pattern << ": " << dfa.error().message;
  return dfa.ok() && dfa->matches(text);
}

std::string parse_error(std::string_view pattern, const RegexParseLimits& limits = {}) {
  auto regex = parse_regex(pattern, limits);
  if (regex.ok()) return "(parsed)";
  EXPECT_EQ(regex.error().kind, ErrorKind::kValidation);
  return regex.error().message;
}

TEST(RegexParser, LiteralsAndOperators) {
  EXPECT_TRUE(full_match("abc", "abc"));
  EXPECT_FALSE(full_match("abc", "abcd"));
  EXPECT_FALSE(full_match("abc", "ab"));
  EXPECT_TRUE(full_match("", ""));
  EXPECT_TRUE(full_match("a|bc|", ""));
  EXPECT_TRUE(full_match("a|bc|", "bc"));
  EXPECT_TRUE(full_match("ab*c", "ac"));
  EXPECT_TRUE(full_match("ab*c", "abbbc"));
  EXPECT_FALSE(full_match("ab+c", "ac"));
  EXPECT_TRUE(full_match("ab?c", "abc"));
  EXPECT_FALSE(full_match("ab?c", "abbc"));
  EXPECT_TRUE(full_match("(ab){2,3}", "ababab"));
  EXPECT_FALSE(full_match("(ab){2,3}", "ab"));
  EXPECT_FALSE(full_match("(ab){2,3}", "abababab"));
  EXPECT_TRUE(full_match("a{3}", "aaa"));
  EXPECT_FALSE(full_match("a{3}", "aaaa"));
  EXPECT_TRUE(full_match("a{2,}", "aaaaaaa"));
  EXPECT_FALSE(full_match("a{2,}", "a"));
  EXPECT_TRUE(full_match("a{0}b", "b"));
  EXPECT_TRUE(full_match("(?:x|y)(?<name>z)(?P<other>w)", "yzw"));
  EXPECT_TRUE(full_match("()", ""));
  EXPECT_TRUE(full_match("^abc$", "abc"));
  EXPECT_TRUE(full_match("^a$|^b$", "b"));
}

TEST(RegexParser, LazyAndPossessiveQuantifiersMatchTheSameWholeStrings) {
  for (std::string_view pattern : {"a*?b", "a*+b", "a+?b", "a++b"}) {
    EXPECT_TRUE(full_match(pattern, "ab")) << pattern;
    EXPECT_TRUE(full_match(pattern, "aaaaab")) << pattern;
  }
  for (std::string_view pattern : {"a??b", "a?+b", "a{1,3}?b", "a{1,3}+b"}) {
    EXPECT_TRUE(full_match(pattern, "ab")) << pattern;
    EXPECT_FALSE(full_match(pattern, "aaaaab")) << pattern;
  }
}

TEST(RegexParser, BracesThatAreNotQuantifiersAreLiterals) {
  EXPECT_TRUE(full_match("a{", "a{"));
  EXPECT_TRUE(full_match("{abc}", "{abc}"));
  EXPECT_TRUE(full_match("a{x}", "a{x}"));
  EXPECT_TRUE(full_match("a{1,x}", "a{1,x}"));
  EXPECT_TRUE(full_match("x]}", "x]}"));
}

TEST(RegexParser, Escapes) {
  EXPECT_TRUE(full_match("\\d+", "0123456789"));
  EXPECT_FALSE(full_match("\\d", "a"));
  EXPECT_FALSE(full_match("\\d", "\xD9\xA3"));  // ARABIC-INDIC DIGIT THREE: \d is ASCII
  EXPECT_TRUE(full_match("\\w+", "az_AZ09"));
  EXPECT_FALSE(full_match("\\w", "\xC3\xA9"));
  EXPECT_TRUE(full_match("\\W", "\xC3\xA9"));
  EXPECT_TRUE(full_match("\\D", "\n"));
  for (std::string_view space :
       {" ", "\t", "\n", "\v", "\f", "\r", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x8A",
        "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80", "\xEF\xBB\xBF"}) {
    EXPECT_TRUE(full_match("\\s", space)) << testing::PrintToString(space);
    EXPECT_FALSE(full_match("\\S", space)) << testing::PrintToString(space);
  }
  EXPECT_FALSE(full_match("\\s", "\xE2\x80\x8B"));  // ZERO WIDTH SPACE is not white space
  EXPECT_FALSE(full_match("\\s", "\xC2\x85"));      // nor NEL in ECMAScript
  EXPECT_TRUE(full_match("\\n\\r\\t\\f\\v\\0", std::string_view("\n\r\t\f\v\0", 6)));
  EXPECT_TRUE(full_match("\\x41\\x{42}\\u0043\\u{44}", "ABCD"));
  EXPECT_TRUE(full_match("\\u00e9", "\xC3\xA9"));
  EXPECT_TRUE(full_match("\\x{1F600}", "\xF0\x9F\x98\x80"));
  EXPECT_TRUE(full_match("\\uD83D\\uDE00", "\xF0\x9F\x98\x80"));  // a UTF-16 surrogate pair
  EXPECT_TRUE(full_match("\\cJ", "\n"));
  EXPECT_TRUE(full_match("\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\\\\\/\\^\\$\\-", ".*+?()[]{}|\\/^$-"));
  EXPECT_TRUE(full_match("é+", "\xC3\xA9\xC3\xA9"));
}

TEST(RegexParser, DotExcludesLineTerminatorsOnly) {
  EXPECT_TRUE(full_match(".", "a"));
  EXPECT_TRUE(full_match(".", "\xF0\x9F\x98\x80"));
  EXPECT_TRUE(full_match(".", "\t"));
  EXPECT_FALSE(full_match(".", "\n"));
  EXPECT_FALSE(full_match(".", "\r"));
  EXPECT_FALSE(full_match(".", "\xE2\x80\xA8"));
  EXPECT_FALSE(full_match(".", "\xE2\x80\xA9"));
  EXPECT_FALSE(full_match(".", "ab"));
}

TEST(RegexParser, CharacterClasses) {
  EXPECT_TRUE(full_match("[a-cx]+", "abcx"));
  EXPECT_FALSE(full_match("[a-cx]", "d"));
  EXPECT_TRUE(full_match("[-a]", "-"));
  EXPECT_TRUE(full_match("[a-]", "-"));
  EXPECT_TRUE(full_match("[\\d_]+", "1_2"));
  EXPECT_TRUE(full_match("[\\s]", "\xE3\x80\x80"));
  EXPECT_TRUE(full_match("[\\w-]+", "a-b"));
  EXPECT_TRUE(full_match("[\\]\\\\\\-^]+", "]\\-^"));
  EXPECT_TRUE(full_match("[\\b]", "\b"));
  EXPECT_TRUE(full_match("[\\x41-\\x43]", "B"));
  EXPECT_TRUE(full_match("[à-ÿ]", "\xC3\xA9"));
  EXPECT_TRUE(full_match("[.*+?(){}|$]+", ".*+?(){}|$"));
  EXPECT_TRUE(full_match("[[]", "["));
  // Negation: any scalar value not listed, line terminators included.
  EXPECT_TRUE(full_match("[^a]", "\n"));
  EXPECT_TRUE(full_match("[^a]", "\xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(full_match("[^a]", "a"));
  EXPECT_FALSE(full_match("[^\\d\\s]", "5"));
  EXPECT_FALSE(full_match("[^\\d\\s]", " "));
  EXPECT_TRUE(full_match("[^\\D]", "5"));
  EXPECT_FALSE(full_match("[^a]", "\xED\xA0\x80"));  // an encoded surrogate is never a character
}

TEST(RegexParser, SearchPatternsMatchStringsContainingAMatch) {
  EXPECT_TRUE(search_match("abc", "abc"));
  EXPECT_TRUE(search_match("abc", "xxabcxx"));
  EXPECT_TRUE(search_match("abc", "line\nabc\nline"));  // padding takes newlines too
  EXPECT_FALSE(search_match("abc", "ab c"));
  EXPECT_TRUE(search_match("^abc", "abcxx"));
  EXPECT_FALSE(search_match("^abc", "xabc"));
  EXPECT_TRUE(search_match("abc$", "xxabc"));
  EXPECT_FALSE(search_match("abc$", "abcx"));
  EXPECT_TRUE(search_match("^abc$", "abc"));
  EXPECT_FALSE(search_match("^abc$", "abc\n"));
  EXPECT_TRUE(search_match("^a|b$", "axx"));
  EXPECT_TRUE(search_match("^a|b$", "xxb"));
  EXPECT_FALSE(search_match("^a|b$", "xax"));
  EXPECT_FALSE(search_match("^a|b$", "bx"));
  EXPECT_TRUE(search_match("", "anything at all"));
  EXPECT_TRUE(search_match("^[0-9]{3}-[0-9]{4}$", "555-1234"));
  EXPECT_FALSE(search_match("^[0-9]{3}-[0-9]{4}$", "555-12345"));
  EXPECT_TRUE(search_match("\\d", "\xF0\x9F\x98\x80 7 \xE2\x80\xA8"));
}

TEST(RegexParser, AnchorsElsewhereAreErrors) {
  EXPECT_THAT(parse_error("a^b"), HasSubstr("'^'"));
  EXPECT_THAT(parse_error("a^b"), HasSubstr("(at 1)"));
  EXPECT_THAT(parse_error("a$b"), HasSubstr("'$'"));
  EXPECT_THAT(parse_error("(^a)"), HasSubstr("(at 1)"));
  EXPECT_THAT(parse_error("(a$)"), HasSubstr("'$'"));
  EXPECT_THAT(parse_error("a$*"), HasSubstr("'$'"));
  EXPECT_FALSE(parse_search_pattern("x(^a)").ok());
  EXPECT_FALSE(parse_search_pattern("a\\b").ok());
}

TEST(RegexParser, UnsupportedConstructsNameTheProblemAndPosition) {
  EXPECT_EQ(parse_error("(a)bc\\1"), "regex: back-references are not supported (at 5)");
  EXPECT_THAT(parse_error("(?<n>a)\\k<n>"), HasSubstr("back-references"));
  EXPECT_THAT(parse_error("(?P<n>a)(?P=n)"), HasSubstr("back-references"));
  EXPECT_EQ(parse_error("ab(?=c)"), "regex: look-ahead is not supported (at 2)");
  EXPECT_THAT(parse_error("(?!c)"), HasSubstr("look-ahead"));
  EXPECT_THAT(parse_error("(?<=c)d"), HasSubstr("look-behind"));
  EXPECT_THAT(parse_error("(?<!c)d"), HasSubstr("look-behind"));
  EXPECT_THAT(parse_error("(?i)abc"), HasSubstr("inline flags"));
  EXPECT_THAT(parse_error("(?i:abc)"), HasSubstr("inline flags"));
  EXPECT_THAT(parse_error("\\bword\\b"), HasSubstr("word boundaries"));
  EXPECT_THAT(parse_error("\\p{L}"), HasSubstr("Unicode property"));
  EXPECT_THAT(parse_error("\\q"), HasSubstr("unknown escape"));
  EXPECT_THAT(parse_error("[[:alpha:]]"), HasSubstr("POSIX"));
  EXPECT_THAT(parse_error("[]a]"), HasSubstr("ambiguous"));
  EXPECT_THAT(parse_error("a{,3}"), HasSubstr("ambiguous"));
}

TEST(RegexParser, MalformedPatterns) {
  EXPECT_EQ(parse_error("ab[z-a]"), "regex: bad character range (end before start) (at 3)");
  EXPECT_THAT(parse_error("[\\d-z]"), HasSubstr("range"));
  EXPECT_EQ(parse_error("a(b"), "regex: unbalanced '(' (at 1)");
  EXPECT_EQ(parse_error("ab)"), "regex: unbalanced ')' (at 2)");
  EXPECT_THAT(parse_error("[abc"), HasSubstr("unterminated character class"));
  EXPECT_THAT(parse_error("*a"), HasSubstr("nothing to repeat"));
  EXPECT_THAT(parse_error("a|+"), HasSubstr("nothing to repeat"));
  EXPECT_THAT(parse_error("a**"), HasSubstr("nothing to repeat"));
  EXPECT_THAT(parse_error("a{2}{3}"), HasSubstr("nothing to repeat"));
  EXPECT_THAT(parse_error("a{3,2}"), HasSubstr("out of order"));
  EXPECT_THAT(parse_error("abc\\"), HasSubstr("ends with"));
  EXPECT_THAT(parse_error("\\x4"), HasSubstr("hex"));
  EXPECT_THAT(parse_error("\\u{110000}"), HasSubstr("10FFFF"));
  EXPECT_THAT(parse_error("\\uD800"), HasSubstr("surrogate"));
  EXPECT_THAT(parse_error("\\uDC00\\uD800"), HasSubstr("surrogate"));
  EXPECT_THAT(parse_error("[\\x{DFFF}]"), HasSubstr("surrogate"));
  EXPECT_THAT(parse_error("\xC3"), HasSubstr("invalid UTF-8"));
  EXPECT_THAT(parse_error("ab\xED\xA0\x80"), HasSubstr("invalid UTF-8 (at 2)"));
  // Offsets count characters, not bytes.
  EXPECT_EQ(parse_error("éé(?=x)"), "regex: look-ahead is not supported (at 2)");
}

TEST(RegexParser, LimitsAreEnforced) {
  EXPECT_EQ(parse_error("a{1000000}"), "regex: repeat bound 1000000 exceeds the limit of 10000 (at 1)");
  EXPECT_THAT(parse_error("a{99999999999999999999999}"), HasSubstr("exceeds the limit"));
  EXPECT_THAT(parse_error("a{2,1000000}"), HasSubstr("exceeds the limit"));
  EXPECT_THAT(parse_error("((a{1000}){1000}){1000}"), HasSubstr("too large"));
  EXPECT_TRUE(parse_regex("a{10000}").ok());
  RegexParseLimits tight;
  tight.max_nesting = 3;
  EXPECT_TRUE(parse_regex("(((a)))", tight).ok());
  EXPECT_THAT(parse_error("((((a))))", tight), HasSubstr("nested deeper than 3"));
  EXPECT_THAT(parse_error(std::string(100000, '('), {}), HasSubstr("nested deeper than 200"));
  tight.max_expanded_size = 50;
  EXPECT_THAT(parse_error("[a-z]{60}", tight), HasSubstr("too large"));
  EXPECT_THAT(parse_error(std::string(60, 'a'), tight), HasSubstr("too large"));
  EXPECT_FALSE(parse_search_pattern(std::string(60, 'a'), tight).ok());
}

TEST(RegexParser, SharedCorpus) {
  std::ifstream file(TGI_SOURCE_DIR "/../shared/structured/regex.json");
  if (!file) GTEST_SKIP() << "shared/structured/regex.json is not present";
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json corpus = nlohmann::json::parse(text.str());
  ASSERT_TRUE(corpus.is_array());
  ASSERT_FALSE(corpus.empty());
  for (const auto& entry : corpus) {
    std::string pattern = entry.at("regex").get<std::string>();
    SCOPED_TRACE(pattern);
    auto regex = parse_regex(pattern);
    ASSERT_TRUE(regex.ok()) << regex.error().message;
    auto dfa = LexemeDfa::build(*regex);
    ASSERT_TRUE(dfa.ok()) << dfa.error().message;
    for (const auto& valid : entry.at("valid")) EXPECT_TRUE(dfa->matches(valid.get<std::string>())) << valid;
    for (const auto& invalid : entry.at("invalid")) {
      EXPECT_FALSE(dfa->matches(invalid.get<std::string>())) << invalid;
    }
  }
}

}  // namespace
}  // namespace tgi::grammar
