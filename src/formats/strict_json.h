#pragma once
// JSON parsing for untrusted files: syntax errors, duplicate object keys (which nlohmann would
// silently resolve to the last one) and absurd nesting all become Errors, never exceptions.
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tgi::formats {

struct StrictJsonOptions {
  int max_depth = 64;  // nesting of arrays/objects, checked before building anything
};

// `what` names the document in messages, e.g. "safetensors header of model.safetensors".
Result<nlohmann::json> parse_strict_json(std::string_view text, std::string_view what,
                                         StrictJsonOptions options = {});

}  // namespace tgi::formats
