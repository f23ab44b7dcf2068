#pragma once
// Pattern syntax -> Regex. One dialect: the common ground of ECMAScript (JSON Schema's `pattern`
// is ECMA-262), Python `re` and PCRE2 as constrained decoding needs it: literals and escapes,
// classes with ranges and negation, \d \w \s \D \W \S (ASCII \d and \w as ECMAScript defines
// them; \s is ECMAScript's Unicode white space), . (any character but line terminators),
// groups (capturing, (?:...), (?<name>...), (?P<name>...)), alternation, * + ? {m} {m,} {m,n}
// and their lazy and possessive forms (the same language here), \uXXXX \u{...} \xXX \x{...}
// escapes. What would change the language a DFA can accept without being said (back-references,
// look-around, \b, anchors in the middle, inline flags) is an error naming the position: a
// constraint we cannot enforce is refused, never loosened.
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "grammar/regex.h"

namespace tgi::grammar {

struct RegexParseLimits {
  uint32_t max_repeat = 10'000;            // largest {m,n} bound
  uint64_t max_expanded_size = 1'000'000;  // Regex::expanded_size() of the result
  uint32_t max_nesting = 200;              // group depth
};

// The pattern must match the whole string. A leading ^ and trailing $ are accepted and ignored.
Result<Regex> parse_regex(std::string_view pattern, const RegexParseLimits& limits = {});

// JSON Schema `pattern` semantics: strings that CONTAIN a match (unanchored search). ^ and $
// anchor the match to the start or end of the string when they begin or end the pattern (or an
// alternative of its top-level alternation); anywhere else they are an error.
Result<Regex> parse_search_pattern(std::string_view pattern, const RegexParseLimits& limits = {});

}  // namespace tgi::grammar
