#pragma once
// What a log line looks like. Text (the default), as TGI prints it:
//   2026-01-02T03:04:05.000006Z info generate{route=/generate total_time="1.23s" input_tokens=12}: Success
// or, under --json-output, one JSON object per line in tracing-subscriber's shape:
//   {"timestamp":"2026-01-02T03:04:05.000006Z","level":"INFO",
//    "fields":{"message":"Success","route":"/generate","total_time":"1.23s","input_tokens":12},
//    "target":"tgi::request","span":{"name":"generate"}}
// Ordinary spdlog calls give {"fields":{"message":...},"target":"tgi"}. An event logged with
// log_event carries typed fields: numbers stay numbers and None is null in JSON. Every line is
// valid JSON whatever the text (invalid UTF-8 is replaced).
//
// Thread-safe like spdlog itself. log_event's fields reach the JSON formatter through a
// thread-local set for the duration of the call, so they need a synchronous logger (spdlog's
// default; an async logger would see none of them).
#include <memory>
#include <string>
#include <vector>

#include <spdlog/formatter.h>
#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

namespace tgi::server {

struct LogField {
  std::string name;
  nlohmann::ordered_json value;  // a number, a string, a bool, or null (printed None)
  // In text, a string printed "in quotes" (tracing's Debug form, used for durations). A bare string
  // that is not a plain token (spaces, quotes, braces: a client's x-request-id) is quoted anyway,
  // so a line always reads back unambiguously.
  bool quoted = false;
};

struct LogEvent {
  spdlog::level::level_enum level = spdlog::level::info;
  std::string target = "tgi";  // JSON "target": where the event comes from, e.g. "tgi::request"
  // Text: `span{fields}: message`. Without a span only the message is printed (it already says
  // what the fields hold in words) and the fields appear in JSON alone.
  std::string span;
  std::vector<LogField> fields;
  std::string message;
};

// LOG_LEVEL (TGI's variable; its first directive, e.g. "debug" of "debug,tower=warn") and the
// format of every later line of the default logger. Under JSON, progress reporters write JSON too.
void configure_logging(bool json_output);

// The formatter configure_logging installs, for a logger of one's own (tests).
std::unique_ptr<spdlog::formatter> make_log_formatter(bool json_output);

void log_event(const LogEvent& event);  // on the default logger
void log_event(spdlog::logger& logger, const LogEvent& event);

// The text after the level: `span{a=1 b="x"}: message`, or `message`.
std::string event_text(const LogEvent& event);
// The JSON "fields" object: "message" first, then the fields in order.
nlohmann::ordered_json event_json_fields(const LogEvent& event);

}  // namespace tgi::server
