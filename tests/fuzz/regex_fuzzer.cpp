// libFuzzer harness for the regex front end and DFA builder: the input is a pattern, parsed both
// as a full-match regex and as a JSON-Schema search pattern; what parses and is small enough is
// compiled under a small state limit and run over a few strings. Any outcome but a crash, a
// sanitizer report or a hang is fine: hostile patterns must end in a clean error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "grammar/lexeme_dfa.h"
#include "grammar/regex_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tgi::grammar;
  if (size > 4096) return 0;
  std::string_view pattern(reinterpret_cast<const char*>(data), size);
  RegexParseLimits parse_limits;
  parse_limits.max_repeat = 1000;
  parse_limits.max_expanded_size = 20000;
  LexemeDfaLimits dfa_limits;
  dfa_limits.max_states = 500;
  for (bool search : {false, true}) {
    auto regex = search ? parse_search_pattern(pattern, parse_limits) : parse_regex(pattern, parse_limits);
    if (!regex.ok() || regex->expanded_size() > 5000) continue;
    (void)regex->to_string();
    auto dfa = LexemeDfa::build(*regex, dfa_limits);
    if (!dfa.ok()) continue;
    for (std::string_view text : {std::string_view(""), std::string_view("a"), std::string_view("ab0"),
                                  std::string_view("\xC3\xA9"), std::string_view("\xC3"), pattern}) {
      (void)dfa->matches(text);
    }
    if (dfa->start() != LexemeDfa::kDead) {
      // Every live state must have a way on or accept: the pruning contract.
      for (uint32_t state = 0; state < dfa->state_count(); ++state) {
        if (!dfa->accepting(state) && !dfa->has_exits(state)) __builtin_trap();
      }
    }
  }
  return 0;
}
