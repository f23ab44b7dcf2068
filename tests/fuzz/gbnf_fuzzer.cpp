// libFuzzer harness for the GBNF compiler: the input is a grammar, compiled under tight limits and,
// when it compiles, run over a few short strings. Any outcome but a crash, a sanitizer report or a
// hang is fine: hostile grammars must end in a clean kValidation error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "grammar/gbnf_parser.h"
#include "grammar/grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tgi::grammar;
  if (size > 16 * 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  GrammarLimits limits;
  limits.max_rules = 2'000;
  limits.max_symbols = 20'000;
  limits.max_lexemes = 500;
  limits.max_lexeme_states = 20'000;
  limits.max_states_per_lexeme = 2'000;
  limits.max_repeat = 64;
  tgi::Result<Grammar> grammar = compile_gbnf(text, limits);
  if (!grammar.ok()) {
    if (grammar.error().kind != tgi::ErrorKind::kValidation || grammar.error().message.empty()) std::abort();
    return 0;
  }
  (void)grammar->accepts("");
  (void)grammar->accepts("a1 ");
  (void)grammar->accepts_prefix("{\"");
  (void)grammar->accepts_prefix(text.substr(0, 16));
  return 0;
}
