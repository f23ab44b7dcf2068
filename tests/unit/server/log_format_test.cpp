// Log lines as a reader or a log collector gets them: TGI-style text, or one JSON object per line
// with typed fields.
#include "server/log_format.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <nlohmann/json.hpp>

namespace tgi::server {
namespace {

// A logger writing into a string with the formatter `serve` would install.
struct CapturedLogger {
  std::ostringstream out;
  spdlog::logger logger;

  explicit CapturedLogger(bool json)
      : logger("captured", std::make_shared<spdlog::sinks::ostream_sink_st>(out)) {
    logger.set_formatter(make_log_formatter(json));
    logger.set_level(spdlog::level::info);
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }
};

LogEvent sample_event() {
  LogEvent event;
  event.target = "tgi::request";
  event.span = "generate";
  event.fields = {{"route", "/generate"},
                  {"total_time", "1.23s", /*quoted=*/true},
                  {"input_tokens", 12},
                  {"seed", nullptr},
                  {"request_id", "has space \"and quotes\""}};
  event.message = "Success";
  return event;
}

TEST(LogFormat, TextIsSpanFieldsThenMessage) {
  EXPECT_EQ(event_text(sample_event()),
            R"(generate{route=/generate total_time="1.23s" input_tokens=12 seed=None )"
            R"(request_id="has space \"and quotes\""}: Success)");
  LogEvent bare;
  bare.message = "Ready";
  bare.fields = {{"threads", 4}};
  EXPECT_EQ(event_text(bare), "Ready");  // no span: the fields are for JSON
}

TEST(LogFormat, TextLineCarriesTimestampAndLevel) {
  CapturedLogger captured(false);
  log_event(captured.logger, sample_event());
  const auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("Z info generate{route=/generate "), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].substr(lines[0].size() - 10), "}: Success");
}

TEST(LogFormat, JsonEventHasTypedFieldsTargetAndSpan) {
  CapturedLogger captured(true);
  log_event(captured.logger, sample_event());
  const auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto line = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(line["level"], "INFO");
  EXPECT_EQ(line["target"], "tgi::request");
  EXPECT_EQ(line["span"]["name"], "generate");
  EXPECT_EQ(line["fields"]["message"], "Success");
  EXPECT_EQ(line["fields"]["input_tokens"], 12);
  EXPECT_EQ(line["fields"]["total_time"], "1.23s");
  EXPECT_TRUE(line["fields"]["seed"].is_null());
  EXPECT_EQ(line["fields"]["request_id"], "has space \"and quotes\"");
  const std::string timestamp = line["timestamp"];
  ASSERT_EQ(timestamp.size(), 27u) << timestamp;  // 2026-01-02T03:04:05.000006Z
  EXPECT_EQ(timestamp[10], 'T');
  EXPECT_EQ(timestamp.back(), 'Z');
}

TEST(LogFormat, OrdinaryMessagesStayValidJsonWhateverTheText) {
  CapturedLogger captured(true);
  captured.logger.warn("quote \" backslash \\ newline \n bad utf-8 \xff end");
  log_event(captured.logger, sample_event());
  captured.logger.info("after an event: {}", 1);  // the event's fields do not leak into it
  const auto lines = captured.lines();
  ASSERT_EQ(lines.size(), 3u);
  const auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["level"], "WARN");
  EXPECT_EQ(first["target"], "tgi");
  EXPECT_NE(first["fields"]["message"].get<std::string>().find("newline \n bad"), std::string::npos);
  const auto last = nlohmann::json::parse(lines[2]);
  EXPECT_EQ(last["fields"], nlohmann::json({{"message", "after an event: 1"}}));
  EXPECT_FALSE(last.contains("span"));
}

TEST(LogFormat, FilteredEventsAreNotFormatted) {
  CapturedLogger captured(true);
  LogEvent event = sample_event();
  event.level = spdlog::level::debug;
  log_event(captured.logger, event);
  EXPECT_TRUE(captured.lines().empty());
}

}  // namespace
}  // namespace tgi::server
