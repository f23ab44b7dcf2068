// libFuzzer harness for the JSON-Schema compiler: the input is parsed as JSON and, when it parses,
// compiled under tight limits. Any outcome but a crash, a sanitizer report or a hang is fine:
// hostile schemas must end in a clean error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "grammar/json_schema_compiler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nlohmann::ordered_json schema =
      nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return 0;
  tgi::grammar::JsonSchemaOptions options;
  options.max_schema_depth = 32;
  options.max_ref_expansions = 500;
  options.limits.max_rules = 20'000;
  options.limits.max_symbols = 200'000;
  options.limits.max_lexemes = 2'000;
  options.limits.max_lexeme_states = 100'000;
  options.limits.max_states_per_lexeme = 5'000;
  options.limits.max_repeat = 1'000;
  auto grammar = tgi::grammar::compile_json_schema(schema, options);
  if (grammar.ok()) (void)grammar->accepts("{}");
  return 0;
}
