#include "server/api_error.h"

#include <nlohmann/json.hpp>

namespace tgi::server {

ApiError ApiError::validation(const std::string& detail) {
  return {422, "Input validation error: " + detail, "validation"};
}
ApiError ApiError::overloaded() { return {429, "Model is overloaded", "overloaded"}; }
ApiError ApiError::generation(const std::string& detail) {
  return {424, "Request failed during generation: " + detail, "generation"};
}
ApiError ApiError::incomplete_generation() {
  return {500, "Incomplete generation", "incomplete_generation"};
}
ApiError ApiError::incomplete_generation_stream() {
  return {500, "Incomplete generation stream", "incomplete_generation_stream"};
}
ApiError ApiError::template_error(const std::string& detail) {
  return {422, "Template error: " + detail, "template_error"};
}
ApiError ApiError::tool_error(const std::string& detail) {
  return {422, "Tool error: " + detail, "tool_error"};
}

ApiError ApiError::from(const Error& error) {
  switch (error.kind) {
    case ErrorKind::kValidation:
    case ErrorKind::kInvalidArgument:
      return validation(error.message);
    case ErrorKind::kOverloaded:
      return overloaded();
    default:
      return generation(error.message);
  }
}

std::string ApiError::body() const {
  nlohmann::ordered_json body;
  body["error"] = message;
  body["error_type"] = type;
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const char* ApiError::failure_label() const {
  if (type == "overloaded") return "overloaded";
  if (type == "validation") return "validation";
  if (type == "template_error" || type == "tool_error") return "template";
  if (type == "incomplete_generation" || type == "incomplete_generation_stream") return "incomplete";
  return "generation";
}

}  // namespace tgi::server
