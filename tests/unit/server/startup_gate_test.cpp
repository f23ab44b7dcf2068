#include "server/startup_gate.h"

#include <gtest/gtest.h>

#include <optional>

namespace tgi::server {
namespace {

// Records the one answer a handler gives.
class RecordingChannel final : public ResponseChannel {
 public:
  void send(HttpResponse response) override { sent = std::move(response); }
  void start_stream(int, HttpHeaders) override {}
  void write(std::string) override {}
  void finish() override {}
  void post(std::function<void()> task) override { task(); }
  void on_disconnect(std::function<void()>) override {}
  std::optional<HttpResponse> sent;
};

HttpRequest get(const std::string& path) {
  HttpRequest request;
  request.method = "GET";
  request.path = path;
  return request;
}

std::optional<std::string> header(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers)
    if (key == name) return value;
  return std::nullopt;
}

TEST(StartupGate, EveryRouteAnswers503WhileTheModelLoads) {
  StartupGate gate;
  auto handler = gate.handler();
  for (const char* path : {"/health", "/generate", "/v1/chat/completions", "/nope"}) {
    auto channel = std::make_shared<RecordingChannel>();
    handler(get(path), channel);
    ASSERT_TRUE(channel->sent) << path;
    EXPECT_EQ(channel->sent->status, 503) << path;
    EXPECT_EQ(channel->sent->body, R"({"error":"Model is loading","error_type":"loading"})");
    EXPECT_EQ(header(*channel->sent, "content-type"), "application/json");
    EXPECT_EQ(header(*channel->sent, "retry-after"), "1");
  }
}

TEST(StartupGate, OnceOpenTheReadyHandlerAnswersThroughTheSameHandler) {
  StartupGate gate;
  auto handler = gate.handler();  // taken before open, as the HTTP server does
  std::string seen_path;
  gate.open([&seen_path](HttpRequest request, std::shared_ptr<ResponseChannel> channel) {
    seen_path = request.path;
    channel->send(HttpResponse{200, {}, "ok"});
  });
  auto channel = std::make_shared<RecordingChannel>();
  handler(get("/health"), channel);
  EXPECT_EQ(seen_path, "/health");
  ASSERT_TRUE(channel->sent);
  EXPECT_EQ(channel->sent->status, 200);
  EXPECT_EQ(channel->sent->body, "ok");
}

}  // namespace
}  // namespace tgi::server
