#pragma once
// Typed reads of request JSON with serde-style messages, so shape errors read like TGI's
// ("invalid type: string \"a\", expected f32"). Paths are prefixed the way axum reports them
// ("parameters.top_k: ..."). Unknown fields are ignored by construction: we only read known ones.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tgi::server {

using json = nlohmann::ordered_json;

// A request body whose JSON shape does not match the schema (422 deserialize error, spec §1.2).
struct ShapeError {
  std::string message;
};

// Reads `name` from `object` (which must be a JSON object). Missing or null gives nullopt, except
// that `null_allowed=false` models serde's non-Option fields that reject an explicit null.
template <typename T>
Result<std::optional<T>> read_field(const json& object, const std::string& path, const char* name,
                                    bool null_allowed = true);

template <typename T>
Result<T> read_required(const json& object, const std::string& path, const char* name);

// Describes a JSON value the way serde's "invalid type" messages do.
std::string describe_json_value(const json& value);

// "missing field `x`" and friends, with the path prefix. The error kind is kInvalidArgument and the
// message is the full text after "Failed to deserialize the JSON body into the target type: ".
Error shape_error(const std::string& path, const std::string& message);

std::string join_path(const std::string& path, const char* name);

}  // namespace tgi::server
