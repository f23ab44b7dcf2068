// The per-request log line: TGI's fields and order in text, typed fields in JSON, and the
// failure and disconnect variants.
#include "server/request_log.h"

#include <gtest/gtest.h>

namespace tgi::server {
namespace {

RequestLogRecord success() {
  RequestLogRecord r;
  r.span = "generate_stream";
  r.route = "/v1/chat/completions";
  r.request_id = "req-1";
  r.total_seconds = 1.234;
  r.validation_seconds = 0.00012;
  r.queue_seconds = 0.00008;
  r.inference_seconds = 1.1008;
  r.input_tokens = 12;
  r.generated_tokens = 256;
  r.finish_reason = "length";
  return r;
}

TEST(RequestLog, DurationsReadLikeTgis) {
  EXPECT_EQ(format_log_duration(1.234), "1.23s");
  EXPECT_EQ(format_log_duration(0.0043), "4.30ms");
  EXPECT_EQ(format_log_duration(0.00012), "0.12ms");
  EXPECT_EQ(format_log_duration(0), "0.00ms");
}

TEST(RequestLog, SuccessTextLine) {
  EXPECT_EQ(request_log_text(success()),
            "generate_stream{route=/v1/chat/completions total_time=\"1.23s\" validation_time=\"0.12ms\" "
            "queue_time=\"0.08ms\" inference_time=\"1.10s\" time_per_token=\"4.30ms\" input_tokens=12 "
            "generated_tokens=256 finish_reason=length seed=None request_id=req-1}: Success");
  EXPECT_EQ(request_log_event(success()).level, spdlog::level::info);
}

TEST(RequestLog, SuccessJsonFields) {
  RequestLogRecord r = success();
  r.seed = 42;
  const auto fields = request_log_json(r);
  EXPECT_EQ(fields["message"], "Success");
  EXPECT_EQ(fields["route"], "/v1/chat/completions");
  EXPECT_EQ(fields["total_time"], "1.23s");
  EXPECT_EQ(fields["time_per_token"], "4.30ms");
  EXPECT_EQ(fields["input_tokens"], 12);
  EXPECT_EQ(fields["generated_tokens"], 256);
  EXPECT_EQ(fields["finish_reason"], "length");
  EXPECT_EQ(fields["seed"], 42u);
  EXPECT_EQ(fields["request_id"], "req-1");
  EXPECT_EQ(request_log_event(r).target, "tgi::request");
}

TEST(RequestLog, UnknownRouteAndIdAndNoTokensAreLeftOut) {
  RequestLogRecord r = success();
  r.route.clear();
  r.request_id.clear();
  r.generated_tokens = 0;
  const auto fields = request_log_json(r);
  EXPECT_FALSE(fields.contains("route"));
  EXPECT_FALSE(fields.contains("request_id"));
  EXPECT_FALSE(fields.contains("time_per_token"));  // no division by zero tokens
  EXPECT_EQ(request_log_text(r).rfind("generate_stream{total_time=", 0), 0u);
}

TEST(RequestLog, FailureIsAWarningWithItsErrorType) {
  RequestLogRecord r = success();
  r.span = "generate";
  r.error_type = "generation";
  r.error_message = "Request failed during generation: boom";
  const LogEvent event = request_log_event(r);
  EXPECT_EQ(event.level, spdlog::level::warn);
  EXPECT_EQ(
      request_log_text(r),
      "generate{route=/v1/chat/completions total_time=\"1.23s\" validation_time=\"0.12ms\" input_tokens=12 "
      "error_type=generation request_id=req-1}: Request failed: Request failed during generation: boom");
  EXPECT_FALSE(request_log_json(r).contains("finish_reason"));
}

TEST(RequestLog, DisconnectIsInformationalAndCountsWhatWasSent) {
  RequestLogRecord r = success();
  r.error_type = "dropped";
  r.generated_tokens = 7;
  const LogEvent event = request_log_event(r);
  EXPECT_EQ(event.level, spdlog::level::info);
  EXPECT_EQ(event.message, "Cancelled: the client disconnected");
  const auto fields = request_log_json(r);
  EXPECT_EQ(fields["generated_tokens"], 7);
  EXPECT_EQ(fields["error_type"], "dropped");
}

}  // namespace
}  // namespace tgi::server
