#pragma once
// The grammar of a forced tool call (`tool_choice: "required"` or a named function): the output
// is one call, {"name": NAME, "arguments": ARGS}, or with parallel calls a non-empty list of
// them, where NAME is one of the offered tools and ARGS validates against that tool's
// `parameters`. This is the shape every family's output reader takes as a call when it sees no
// markers (chat/output), so one grammar serves all models. Each tool's schema is compiled on
// its own, so its `$ref`s resolve inside its own document.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "grammar/grammar.h"
#include "grammar/json_schema_compiler.h"

namespace tgi::grammar {

struct ForcedTool {
  std::string name;
  nlohmann::ordered_json parameters;  // a JSON Schema; null means any object
};

Result<Grammar> compile_tool_calls(const std::vector<ForcedTool>& tools, bool parallel,
                                   const JsonSchemaOptions& options = {});

// The ConstraintSpec text for compile_tool_calls (grammar/constraint.h): {"tools": [{"name",
// "parameters"}], "parallel": bool}.
std::string tool_calls_spec_text(const std::vector<ForcedTool>& tools, bool parallel);

}  // namespace tgi::grammar
