#pragma once
// TGI's error responses (spec §2): an HTTP status plus the body {"error": ..., "error_type": ...}.
// Engine and validation errors are tgi::Error values; they are mapped here, once.
#include <string>

#include "core/error.h"

namespace tgi::server {

struct ApiError {
  int status = 500;
  std::string message;  // the "error" field, complete (prefixes included)
  std::string type;     // the "error_type" field

  static ApiError validation(const std::string& detail);  // 422 "Input validation error: ..."
  static ApiError overloaded();                            // 429
  static ApiError generation(const std::string& detail);  // 424
  static ApiError incomplete_generation();                 // 500
  static ApiError incomplete_generation_stream();          // 500
  static ApiError template_error(const std::string& detail);  // 422
  static ApiError tool_error(const std::string& detail);      // 422

  // Maps an error returned by the engine or backend (validation, overload, generation failure).
  static ApiError from(const Error& error);

  std::string body() const;  // compact JSON {"error":...,"error_type":...}
  // The `err` label of tgi_request_failure for this error.
  const char* failure_label() const;
};

}  // namespace tgi::server
