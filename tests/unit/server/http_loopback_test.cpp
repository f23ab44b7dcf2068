// The HTTP layer over a real loopback socket, with a scripted backend: routing edges (404, 405,
// 401, 413, 415, 400, 422), JSON and SSE bytes, keep-alive, and cancellation on disconnect.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "loopback_api_fixture.h"

namespace tgi::server {
namespace {

TEST_F(LoopbackTest, UnknownPathAndWrongMethod) {
  EXPECT_TRUE(exchange(get("/nope")).starts_with("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_TRUE(exchange(get("/generate")).starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
}

TEST_F(LoopbackTest, TransportErrors) {
  std::string big(2000, 'a');
  std::string r = exchange(post("/generate", "{\"inputs\":\"" + big + "\"}"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 413 "));
  EXPECT_EQ(body_of(r), "Failed to buffer the request body: length limit exceeded");
  r = exchange(post("/generate", "{}", "", "text/plain"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 415 "));
  EXPECT_EQ(body_of(r), "Expected request with `Content-Type: application/json`");
  r = exchange(post("/generate", "{nope"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 400 "));
  EXPECT_TRUE(body_of(r).starts_with("Failed to parse the request body as JSON: "));
  r = exchange(post("/generate", R"({"parameters":{}})"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 422 "));
  EXPECT_EQ(body_of(r), "Failed to deserialize the JSON body into the target type: missing field `inputs`");
}

TEST_F(LoopbackTest, ValidationErrorIsJson) {
  std::string r = exchange(post("/generate", R"({"inputs":"a","parameters":{"top_k":0}})"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 422 "));
  EXPECT_EQ(body_of(r), R"({"error":"Input validation error: `top_k` must be strictly positive","error_type":"validation"})");
}

TEST_F(LoopbackTest, GenerateReturnsTextAndHeaders) {
  std::string r = exchange(post("/generate", R"({"inputs":"hello world","parameters":{"max_new_tokens":2}})"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n")) << r;
  EXPECT_NE(r.find("x-compute-type: gpu+optimized\r\n"), std::string::npos);
  EXPECT_NE(r.find("x-prompt-tokens: 3\r\n"), std::string::npos);
  EXPECT_NE(r.find("x-generated-tokens: 2\r\n"), std::string::npos);
  EXPECT_EQ(body_of(r), R"({"generated_text":" tok1 tok2"})");
  r = exchange(post("/", R"({"inputs":"hi","parameters":{"max_new_tokens":1}})"));
  EXPECT_EQ(body_of(r), R"([{"generated_text":"hi tok1"}])");
}

TEST_F(LoopbackTest, GenerateStreamSseBytes) {
  std::string r = exchange(post("/generate_stream", R"({"inputs":"hi","parameters":{"max_new_tokens":2,"details":true}})"));
  EXPECT_NE(r.find("content-type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(r.find("transfer-encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(r.find("data: {\"index\":1,\"token\":{\"id\":1,\"text\":\" tok1\",\"logprob\":-0.5,\"special\":false},"
                   "\"generated_text\":null,\"details\":null}\n\n"),
            std::string::npos);
  EXPECT_NE(r.find("data: {\"index\":2,\"token\":{\"id\":2,\"text\":\" tok2\",\"logprob\":-1.0,\"special\":false},"
                   "\"generated_text\":\" tok1 tok2\",\"details\":{\"finish_reason\":\"length\",\"generated_tokens\":2,"
                   "\"seed\":null,\"input_length\":2}}\n\n"),
            std::string::npos)
      << r;
  EXPECT_TRUE(r.ends_with("0\r\n\r\n"));
}

// Each token is on the wire before the next one exists; only the last waits for its final event.
TEST_F(LoopbackTest, StreamedTokenIsSentBeforeTheNextIsGenerated) {
  backend_->released_tokens = 1;
  Connection c(server_->port());
  c.send(post("/generate_stream", R"({"inputs":"hi","parameters":{"max_new_tokens":3}})"));
  std::string first = c.read_until("\"index\":1,");
  ASSERT_NE(first.find("\"index\":1,"), std::string::npos) << first;
  EXPECT_EQ(first.find("\"index\":2,"), std::string::npos);
  backend_->released_tokens = 3;
  std::string all = c.read_all();
  EXPECT_NE(all.find("\"index\":3,\"token\":{\"id\":3,\"text\":\" tok3\""), std::string::npos) << all;
  EXPECT_NE(all.find("\"generated_text\":\" tok1 tok2 tok3\""), std::string::npos) << all;
}

TEST_F(LoopbackTest, ChatStreamSendsTokensAsTheyAreGenerated) {
  backend_->released_tokens = 1;
  Connection c(server_->port());
  c.send(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":2})"));
  std::string first = c.read_until(" tok1");
  EXPECT_NE(first.find("\"content\":\" tok1\""), std::string::npos) << first;
  backend_->released_tokens = 2;
  std::string all = c.read_all();
  EXPECT_NE(all.find("\"content\":\" tok2\""), std::string::npos) << all;
  EXPECT_NE(all.find("data: [DONE]"), std::string::npos) << all;
}

// The raw bytes of a one-token stream whose backend stalls until the first keep-alive comment
// (or, with keep-alive off, until the headers) has arrived.
std::string stalled_stream(HttpServer& server, testing::FakeBackend& backend, bool expect_comment) {
  backend.released_tokens = 0;
  Connection c(server.port());
  c.send(post("/generate_stream", R"({"inputs":"hi","parameters":{"max_new_tokens":1}})"));
  c.read_until(expect_comment ? "3\r\n:\n\n\r\n" : "\r\n\r\n");
  backend.released_tokens = 1;
  return c.read_all();
}

// A silent stream gets SSE comments (TGI's keep-alive), which clients ignore.
TEST_F(LoopbackTest, SilentStreamGetsKeepAliveComments) {
  keep_alive_ = std::chrono::milliseconds(5);
  start(ServerConfig{});
  const std::string all = stalled_stream(*server_, *backend_, true);
  EXPECT_NE(all.find("3\r\n:\n\n\r\n"), std::string::npos) << all;
  EXPECT_NE(all.find("\"generated_text\":\" tok1\""), std::string::npos) << all;
}

TEST_F(LoopbackTest, KeepAliveOffMeansNoComments) {
  keep_alive_ = std::chrono::milliseconds(0);
  start(ServerConfig{});
  const std::string all = stalled_stream(*server_, *backend_, false);
  EXPECT_EQ(all.find("3\r\n:\n\n\r\n"), std::string::npos) << all;
  EXPECT_NE(all.find("\"generated_text\":\" tok1\""), std::string::npos) << all;
}

TEST_F(LoopbackTest, StreamValidationErrorIsAnEventOn200) {
  std::string r = exchange(post("/generate_stream", R"({"inputs":"","parameters":{}})"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(r.find("data: {\"error\":\"Input validation error: `inputs` cannot be empty\",\"error_type\":\"validation\"}\n\n"),
            std::string::npos);
}

TEST_F(LoopbackTest, KeepAliveServesSeveralRequests) {
  Connection c(server_->port());
  c.send("GET /health HTTP/1.1\r\nhost: x\r\n\r\n");
  std::string first = c.read_until("\r\n\r\n");
  EXPECT_TRUE(first.starts_with("HTTP/1.1 200 OK\r\n"));
  c.send("GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
  std::string both = c.read_all();
  EXPECT_NE(both.find(R"({"object":"list","data":[{"id":"fake/model","object":"model","created":0,"owned_by":"fake/model"}]})"),
            std::string::npos);
  // Every exchange on the kept-alive connection was counted out again (graceful shutdown waits on it).
  for (int i = 0; i < 100 && server_->responses_in_flight() != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(server_->responses_in_flight(), 0);
}

TEST_F(LoopbackTest, ChatCompletionStreamEndsWithUsageAndDone) {
  std::string r = exchange(post("/v1/chat/completions",
                                R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":2,"stream":true,)"
                                R"("stream_options":{"include_usage":true}})"));
  EXPECT_NE(r.find("\"delta\":{\"role\":\"assistant\",\"content\":\" tok2\"},\"logprobs\":null,\"finish_reason\":\"length\""),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}"),
            std::string::npos);
  EXPECT_NE(r.find("data: [DONE]\n\n"), std::string::npos);
}

TEST_F(LoopbackTest, ChatTemplateErrorAndCompletionLimits) {
  std::string r =
      exchange(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"boom"}]})"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 422 "));
  EXPECT_EQ(body_of(r),
            R"({"error":"Template error: content boom is not allowed","error_type":"template_error"})");
  r = exchange(post("/v1/chat/completions", R"({"messages":[{"role":"boss","content":"x"}]})"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 422 "));
  EXPECT_NE(body_of(r).find("messages[0].role: unknown variant `boss`"), std::string::npos) << r;
  r = exchange(post("/v1/completions", R"({"prompt":["a","b","c","d","e"]})"));
  EXPECT_EQ(body_of(r),
            R"({"error":"Number of prompts exceeds the maximum allowed batch size of 4","error_type":"batch size exceeded"})");
  r = exchange(post("/v1/completions", R"({"prompt":"a","suffix":"b"})"));
  EXPECT_EQ(body_of(r),
            R"({"error":"Suffix is not supported and can be achieved by preprocessing the prompt.","error_type":"suffix not supported"})");
  r = exchange(post("/v1/completions", R"({"prompt":["a b","c"],"max_tokens":1,"temperature":0})"));
  EXPECT_NE(r.find(R"("usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7})"), std::string::npos) << r;
}

TEST_F(LoopbackTest, TokenizeReportsOffsets) {
  std::string r = exchange(post("/tokenize", R"({"inputs":"ab c"})"));
  EXPECT_EQ(body_of(r),
            R"([{"id":1,"text":"","start":0,"stop":0},{"id":102,"text":"ab","start":0,"stop":2},{"id":101,"text":"c","start":3,"stop":4}])");
}

TEST_F(LoopbackTest, DisconnectCancelsTheRequest) {
  backend_->tokens_per_request = 1000;
  backend_->step_delay = std::chrono::milliseconds(5);
  {
    Connection c(server_->port());
    c.send(post("/generate_stream", R"({"inputs":"hi","parameters":{"max_new_tokens":15}})"));
    c.read_until("\"index\":2");
  }
  for (int i = 0; i < 500 && backend_->cancelled.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(backend_->cancelled.load(), 1);
  std::string metrics = body_of(exchange(get("/metrics")));
  EXPECT_NE(metrics.find("tgi_request_failure{err=\"dropped\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("tgi_kv_cache_blocks_used 4"), std::string::npos);
}

TEST(LoopbackAuth, ApiKeyProtectsGenerationRoutesOnly) {
  ServerConfig config;
  config.api_key = "secret";
  config.limits.max_input_tokens = 10;
  config.limits.max_total_tokens = 20;
  Api api(config);
  auto backend = std::make_shared<testing::FakeBackend>();
  api.set_backend(backend);
  HttpServer server(HttpServerOptions{1, 1000}, api.handler());
  ASSERT_TRUE(server.listen_tcp("127.0.0.1", 0).ok());
  server.start();
  auto exchange = [&](const std::string& request) {
    Connection c(server.port());
    c.send(request);
    return c.read_all();
  };
  const std::string body = R"({"inputs":"hi","parameters":{"max_new_tokens":1}})";
  EXPECT_TRUE(exchange(post("/generate", body)).starts_with("HTTP/1.1 401 "));
  EXPECT_TRUE(exchange(post("/generate", body, "authorization: Bearer wrong\r\n")).starts_with("HTTP/1.1 401 "));
  EXPECT_TRUE(exchange(post("/generate", body, "authorization: bearer SECRET\r\n")).starts_with("HTTP/1.1 200 "));
  EXPECT_TRUE(exchange(get("/health")).starts_with("HTTP/1.1 200 "));
  EXPECT_TRUE(exchange(get("/info")).starts_with("HTTP/1.1 200 "));
}

TEST(LoopbackOverload, PermitsAreNeverWaitedFor) {
  ServerConfig config;
  config.max_concurrent_requests = 1;
  config.limits.max_input_tokens = 10;
  config.limits.max_total_tokens = 20;
  Api api(config);
  auto backend = std::make_shared<testing::FakeBackend>();
  backend->tokens_per_request = 1000;
  // The slow stream must still hold its permit when the second request arrives: 50 ms a token
  // leaves ~0.7 s after its second token, room for a test thread the host deschedules.
  backend->step_delay = std::chrono::milliseconds(50);
  api.set_backend(backend);
  HttpServer server(HttpServerOptions{2, 1000}, api.handler());
  ASSERT_TRUE(server.listen_tcp("127.0.0.1", 0).ok());
  server.start();
  Connection slow(server.port());
  slow.send(post("/generate_stream", R"({"inputs":"hi","parameters":{"max_new_tokens":15}})"));
  slow.read_until("\"index\":1");
  Connection second(server.port());
  second.send(post("/generate", R"({"inputs":"hi","parameters":{"max_new_tokens":1}})"));
  std::string r = second.read_all();
  EXPECT_TRUE(r.starts_with("HTTP/1.1 429 ")) << r;
  EXPECT_EQ(body_of(r), R"({"error":"Model is overloaded","error_type":"overloaded"})");
  slow.close();
}

}  // namespace
}  // namespace tgi::server
