#include "server/log_format.h"

#include <chrono>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include "core/progress.h"

namespace tgi::server {

namespace {

using Json = nlohmann::ordered_json;

// The event log_event is logging on this thread, for the JSON formatter; null for ordinary calls.
thread_local const LogEvent* t_current_event = nullptr;

std::string dump_json(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// tracing's level names, which TGI's JSON logs carry.
const char* json_level(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "TRACE";
    case spdlog::level::debug:
      return "DEBUG";
    case spdlog::level::info:
      return "INFO";
    case spdlog::level::warn:
      return "WARN";
    default:
      return "ERROR";
  }
}

// A string that reads back as itself when printed bare in `name=value`.
bool is_plain_token(const std::string& text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    if (c <= ' ' || c == '"' || c == '\\' || c == '{' || c == '}' || c == '=' || c == 0x7f) return false;
  }
  return true;
}

std::string text_value(const LogField& field) {
  const Json& v = field.value;
  if (v.is_null()) return "None";
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (!field.quoted && is_plain_token(s)) return s;
    return dump_json(v);  // quoted, with JSON's escapes (close to Rust's Debug)
  }
  return dump_json(v);
}

class JsonLineFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    Json line;
    line["timestamp"] = utc_timestamp(msg.time);
    line["level"] = json_level(msg.level);
    if (const LogEvent* event = t_current_event) {
      line["fields"] = event_json_fields(*event);
      line["target"] = event->target;
      if (!event->span.empty()) line["span"] = Json{{"name", event->span}};
    } else {
      line["fields"] = Json{{"message", std::string(msg.payload.data(), msg.payload.size())}};
      line["target"] = "tgi";
    }
    std::string text = dump_json(line);
    text += '\n';
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLineFormatter>(); }
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_log_formatter(bool json_output) {
  if (json_output) return std::make_unique<JsonLineFormatter>();
  return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ %v",
                                                     spdlog::pattern_time_type::utc);
}

void configure_logging(bool json_output) {
  if (const char* level = std::getenv("LOG_LEVEL")) {
    std::string l = level;
    l = l.substr(0, l.find(','));
    spdlog::set_level(spdlog::level::from_str(l));
  }
  spdlog::set_formatter(make_log_formatter(json_output));
  set_progress_json_output(json_output);
}

void log_event(const LogEvent& event) {
  log_event(*spdlog::default_logger_raw(), event);
}

void log_event(spdlog::logger& logger, const LogEvent& event) {
  if (!logger.should_log(event.level)) return;
  // Formatting happens inside this call (a synchronous logger), on this thread.
  t_current_event = &event;
  logger.log(event.level, "{}", event_text(event));
  t_current_event = nullptr;
}

std::string event_text(const LogEvent& event) {
  if (event.span.empty()) return event.message;
  std::string out = event.span;
  if (!event.fields.empty()) {
    out += '{';
    for (size_t i = 0; i < event.fields.size(); ++i) {
      if (i > 0) out += ' ';
      out += event.fields[i].name;
      out += '=';
      out += text_value(event.fields[i]);
    }
    out += '}';
  }
  out += ": ";
  out += event.message;
  return out;
}

Json event_json_fields(const LogEvent& event) {
  Json fields;
  fields["message"] = event.message;
  for (const auto& field : event.fields) fields[field.name] = field.value;
  return fields;
}

}  // namespace tgi::server
