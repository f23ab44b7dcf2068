#include "server/request_log.h"

#include <algorithm>

#include <fmt/format.h>

namespace tgi::server {

namespace {

using Json = nlohmann::ordered_json;

LogField duration(std::string name, double seconds) {
  return LogField{std::move(name), format_log_duration(seconds), /*quoted=*/true};
}

bool dropped(const RequestLogRecord& record) {
  return record.error_type && *record.error_type == "dropped";
}

}  // namespace

std::string format_log_duration(double seconds) {
  if (seconds >= 1.0) return fmt::format("{:.2f}s", seconds);
  return fmt::format("{:.2f}ms", std::max(0.0, seconds) * 1e3);
}

std::vector<LogField> request_log_fields(const RequestLogRecord& record) {
  std::vector<LogField> fields;
  if (!record.route.empty()) fields.push_back({"route", record.route});
  fields.push_back(duration("total_time", record.total_seconds));
  fields.push_back(duration("validation_time", record.validation_seconds));
  if (!record.error_type) {  // the engine's timings come with its end event only
    fields.push_back(duration("queue_time", record.queue_seconds));
    fields.push_back(duration("inference_time", record.inference_seconds));
    if (record.generated_tokens > 0) {
      fields.push_back(duration("time_per_token",
                                record.inference_seconds / static_cast<double>(record.generated_tokens)));
    }
  }
  fields.push_back({"input_tokens", record.input_tokens});
  if (record.error_type) {
    if (dropped(record)) fields.push_back({"generated_tokens", record.generated_tokens});
    fields.push_back({"error_type", *record.error_type});
  } else {
    fields.push_back({"generated_tokens", record.generated_tokens});
    fields.push_back({"finish_reason", record.finish_reason});
    fields.push_back({"seed", record.seed ? Json(*record.seed) : Json(nullptr)});
  }
  if (!record.request_id.empty()) fields.push_back({"request_id", record.request_id});
  return fields;
}

LogEvent request_log_event(const RequestLogRecord& record) {
  LogEvent event;
  event.target = "tgi::request";
  event.span = record.span;
  event.fields = request_log_fields(record);
  if (!record.error_type) {
    event.level = spdlog::level::info;
    event.message = "Success";
  } else if (dropped(record)) {
    // Not the server's failure: a client stopping a stream is ordinary.
    event.level = spdlog::level::info;
    event.message = "Cancelled: the client disconnected";
  } else {
    event.level = spdlog::level::warn;
    event.message =
        record.error_message.empty() ? "Request failed" : "Request failed: " + record.error_message;
  }
  return event;
}

std::string request_log_text(const RequestLogRecord& record) {
  return event_text(request_log_event(record));
}

Json request_log_json(const RequestLogRecord& record) {
  return event_json_fields(request_log_event(record));
}

void log_request(const RequestLogRecord& record) {
  log_event(request_log_event(record));
}

}  // namespace tgi::server
