#pragma once
// The one log line per finished generation, as TGI writes it (router/src/server.rs: a span
// carrying the timings, then "Success"):
//   generate_stream{route=/v1/chat/completions total_time="1.23s" validation_time="0.12ms"
//     queue_time="0.08ms" inference_time="1.10s" time_per_token="4.30ms" input_tokens=12
//     generated_tokens=256 finish_reason=length seed=None request_id=7f3a...}: Success
// at info; a failed generation at warn with its error type and message instead of the engine's
// timings; a client that went away at info. Under --json-output the same fields are typed JSON
// fields of target "tgi::request" (log_format.h).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/log_format.h"

namespace tgi::server {

struct RequestLogRecord {
  std::string span = "generate";  // "generate" or "generate_stream", TGI's span names
  std::string route;              // e.g. "/v1/chat/completions"; left out when empty
  std::string request_id;         // x-request-id or the generated one; left out when empty
  double total_seconds = 0;       // arrival to the last event
  double validation_seconds = 0;  // arrival to submission (parsing, templating, tokenizing)
  double queue_seconds = 0;
  double inference_seconds = 0;
  int64_t input_tokens = 0;
  int64_t generated_tokens = 0;
  std::string finish_reason;     // "length", "eos_token", "stop_sequence"
  std::optional<uint64_t> seed;  // None when sampling was not effective
  // A request that did not finish: its ApiError type ("generation", "overloaded", ...) or
  // "dropped" for a client that disconnected, and the message.
  std::optional<std::string> error_type;
  std::string error_message;
};

// "1.23s" from a second up, "4.30ms" below (TGI prints Rust's Duration Debug form; two decimals
// keep the line short).
std::string format_log_duration(double seconds);

// The fields in line order, and the whole event (level, target, span, message).
std::vector<LogField> request_log_fields(const RequestLogRecord& record);
LogEvent request_log_event(const RequestLogRecord& record);

// The text line after the level, and the JSON "fields" object (log_format.h renders both).
std::string request_log_text(const RequestLogRecord& record);
nlohmann::ordered_json request_log_json(const RequestLogRecord& record);

// Logs the record on the default logger.
void log_request(const RequestLogRecord& record);

}  // namespace tgi::server
