// The checks of tests/fuzz/regex_fuzzer.cpp over a few hundred pseudo-random patterns (fixed
// seed): hostile patterns must end in a clean error or a working DFA, never a crash or a hang.
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "grammar/lexeme_dfa.h"
#include "grammar/regex_parser.h"

namespace tgi::grammar {
namespace {

TEST(RegexFuzzSmoke, RandomPatternsParseAndCompileCleanly) {
  const std::vector<std::string> pieces = {"a",          "b",       "é",    "\xF0\x9F\x98\x80",
                                           ".",          "|",       "(",    ")",
                                           "(?:",        "(?<n>",   "(?=",  "[",
                                           "]",          "[^",      "-",    "^",
                                           "$",          "*",       "+",    "?",
                                           "*?",         "++",      "{",    "}",
                                           "{2}",        "{0,3}",   "{1,}", "{99999}",
                                           "{3,1}",      ",",       "\\",   "\\d",
                                           "\\w",        "\\s",     "\\S",  "\\x41",
                                           "\\u{1F600}", "\\uD83D", "\\1",  "\\b",
                                           "\\n",        "0",       "9",    "\xC3",
                                           "\x80",       "\0"};
  std::mt19937 rng(12345);
  LexemeDfaLimits limits;
  limits.max_states = 300;
  int parsed = 0;
  int built = 0;
  for (int i = 0; i < 600; ++i) {
    std::string pattern;
    size_t length = rng() % 12;
    for (size_t j = 0; j < length; ++j) pattern += pieces[rng() % pieces.size()];
    for (bool search : {false, true}) {
      auto regex = search ? parse_search_pattern(pattern) : parse_regex(pattern);
      if (!regex.ok()) {
        EXPECT_EQ(regex.error().kind, ErrorKind::kValidation) << pattern;
        EXPECT_FALSE(regex.error().message.empty());
        continue;
      }
      ++parsed;
      if (regex->expanded_size() > 5000) continue;
      auto dfa = LexemeDfa::build(*regex, limits);
      if (!dfa.ok()) {
        EXPECT_EQ(dfa.error().kind, ErrorKind::kValidation) << pattern;
        continue;
      }
      ++built;
      ASSERT_LE(dfa->state_count(), limits.max_states);
      for (std::string_view text : {"", "a", "ab", "é", "aaaa", "\xC3", "b|a", "\n", "A0 9"}) {
        (void)dfa->matches(text);
      }
      if (search) {
        // A search pattern that matches a string also matches it with anything around it.
        for (std::string_view text : {"a", "ab", "b", "é"}) {
          if (dfa->matches(text) && pattern.find('^') == std::string::npos &&
              pattern.find('$') == std::string::npos) {
            EXPECT_TRUE(dfa->matches("x" + std::string(text) + "\n")) << pattern;
          }
        }
      }
    }
  }
  // The generator must exercise the success path too, not only errors.
  EXPECT_GT(parsed, 50);
  EXPECT_GT(built, 50);
}

}  // namespace
}  // namespace tgi::grammar
