#pragma once
// JSON Schema -> Grammar. The output of the grammar is always a valid JSON text that validates
// against the schema (draft 2020-12 semantics, with the older drafts' keywords by `$schema`);
// a schema we cannot enforce completely is refused with a kValidation error that names the
// keyword and its JSON pointer. Never fails open.
//
// Choices that narrow what is generated but never admit an invalid instance:
// - properties are generated in the schema's order (declared ones first, in `properties` order,
//   then any others the schema allows; see JsonSchemaOptions for when others are allowed);
// - a string whose maxLength is over 2048 characters is at most 1024 long;
// - uniqueItems arrays hold distinct values of a small finite item set in its order, or (items a
//   grammar cannot compare, at most one required) a single item;
// - an optional property whose presence would trigger dependentRequired/dependentSchemas is left
//   out;
// - oneOf branches are accepted when what is generated for each fails the others (closed objects
//   missing a key the other branch requires), not only when the schemas are disjoint;
// - strings use one spelling per character (escapes only where JSON requires them);
// - white space between tokens is bounded (see JsonWhitespace).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "grammar/grammar.h"

namespace tgi::grammar {

enum class JsonWhitespace {
  kCompact,  // no white space at all
  kBounded,  // between tokens: nothing, one space, or a newline and up to max_indent spaces/tabs
};

struct JsonSchemaOptions {
  JsonWhitespace whitespace = JsonWhitespace::kBounded;
  uint32_t max_indent = 20;
  uint32_t max_schema_depth = 128;       // nesting of subschemas while compiling
  uint32_t max_ref_expansions = 10'000;  // $ref resolutions in one compile
  GrammarLimits limits;
  // Narrowings that keep every output valid and let a model finish (a weak model otherwise keeps
  // adding properties or wanders into an endless string until max_new_tokens):
  // an object with `properties` and no `additionalProperties`/`patternProperties` gets no other
  // properties unless this is set;
  bool extra_properties_when_unspecified = false;
  // a schema without `type` whose keywords all concern one kind of value generates that kind.
  bool infer_type_from_keywords = true;
};

// Adds the grammar of `schema` to `builder` and returns the symbol deriving exactly the JSON texts
// (without surrounding white space) that validate. `schema` is the document `$ref`s resolve in.
// The schema is an ordered_json because the order of `properties` is the generation order.
Result<Symbol> add_json_schema(GrammarBuilder& builder, const nlohmann::ordered_json& schema,
                               const JsonSchemaOptions& options = {});

// A whole grammar: optional bounded white space, the value, optional bounded white space.
Result<Grammar> compile_json_schema(const nlohmann::ordered_json& schema,
                                    const JsonSchemaOptions& options = {});

}  // namespace tgi::grammar
