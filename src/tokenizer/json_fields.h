#pragma once
// Typed access to tokenizer.json fields with clear errors instead of nlohmann exceptions.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tgi::tokenizer::json_fields {

using json = nlohmann::json;

inline Result<std::string> type_of(const json& j, const char* what) {
  if (!j.is_object()) return Error::make(ErrorKind::kInvalidArgument, "{} must be an object", what);
  auto it = j.find("type");
  if (it == j.end() || !it->is_string()) return Error::make(ErrorKind::kInvalidArgument, "{} has no \"type\"", what);
  return it->get<std::string>();
}

inline Result<const json*> array(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return Error::make(ErrorKind::kInvalidArgument, "\"{}\" must be an array", key);
  return &*it;
}

inline Result<bool> boolean(const json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return Error::make(ErrorKind::kInvalidArgument, "\"{}\" must be a boolean", key);
  return it->get<bool>();
}

inline Result<std::string> string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return Error::make(ErrorKind::kInvalidArgument, "\"{}\" must be a string", key);
  return it->get<std::string>();
}

inline Result<std::string> string_or(const json& j, const char* key, std::string fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_string()) return Error::make(ErrorKind::kInvalidArgument, "\"{}\" must be a string", key);
  return it->get<std::string>();
}

inline Result<std::optional<std::string>> optional_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Error::make(ErrorKind::kInvalidArgument, "\"{}\" must be a string or null", key);
  return std::optional<std::string>(it->get<std::string>());
}

inline Result<int64_t> integer_or(const json& j, const char* key, int64_t fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) return Error::make(ErrorKind::kInvalidArgument, "\"{}\" must be an integer", key);
  return it->get<int64_t>();
}

}  // namespace tgi::tokenizer::json_fields
