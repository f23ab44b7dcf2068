#pragma once
// One structured-output constraint as a request states it, and the cache of compiled grammars.
// Compiling is pure (same text, same grammar), so grammars are shared by content: a client that
// sends the same schema with every request compiles it once. Refusals are cached as well, so a
// pathological schema costs its compile time once, not per request.
#include <cstddef>
#include <memory>
#include <string>

#include "core/error.h"
#include "grammar/grammar.h"
#include "grammar/json_schema_compiler.h"

namespace tgi::grammar {

enum class ConstraintKind {
  kJsonSchema,  // text: the schema as JSON
  kRegex,       // text: the pattern; the whole output must match
  kGbnf,        // text: llama.cpp grammar
  kToolCalls,   // text: tool_calls_spec_text() (tool_call_grammar.h)
};

struct ConstraintSpec {
  ConstraintKind kind = ConstraintKind::kJsonSchema;
  std::string text;
};

// How every constraint in the process is compiled: white space between JSON tokens and the bounds
// on a compile. Set once at start-up (tgi serve's --grammar-* flags), before any compile.
struct ConstraintOptions {
  JsonWhitespace whitespace = JsonWhitespace::kBounded;
  uint32_t max_indent = 20;  // after a newline between JSON tokens, at most this many spaces/tabs
  GrammarLimits limits;
};
void set_constraint_options(const ConstraintOptions& options);
const ConstraintOptions& constraint_options();

// Compiles `spec` or returns the grammar compiled for the same spec before. Thread-safe. Errors
// are kValidation and say what could not be compiled.
Result<std::shared_ptr<const Grammar>> compile_constraint(const ConstraintSpec& spec);

// What the process-wide cache keeps at most (least recently used go first).
inline constexpr size_t kConstraintCacheEntries = 512;
inline constexpr size_t kConstraintCacheBytes = size_t{256} << 20;

}  // namespace tgi::grammar
