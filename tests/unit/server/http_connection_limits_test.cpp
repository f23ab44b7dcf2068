// The HTTP layer's bounds on what a client can hold: time (idle, header and body limits), memory
// (read-ahead while a response is pending, a slow stream reader's backlog), connections, the drain
// after SIGTERM, and the lingering close that lets a client still uploading read its 413.
#include <fcntl.h>
#include <poll.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fake_backend.h"
#include "loopback_connection.h"
#include "server/api.h"
#include "server/http_server.h"

namespace tgi::server {
namespace {

using std::chrono::milliseconds;

std::string post(const std::string& path, const std::string& body, bool close = true) {
  return "POST " + path + " HTTP/1.1\r\nhost: x\r\n" + (close ? "connection: close\r\n" : "") +
         "content-type: application/json\r\ncontent-length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}

std::string body_of(const std::string& response) {
  return response.substr(response.find("\r\n\r\n") + 4);
}

template <typename Condition>
bool eventually(Condition condition) {
  for (int i = 0; i < 1000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return condition();
}

class ConnectionLimitsTest : public ::testing::Test {
 protected:
  void start() {
    ServerConfig config;
    config.limits.max_input_tokens = 10;
    config.limits.max_total_tokens = 1 << 20;
    config.model.model_id = "fake/model";
    config.payload_limit = options_.payload_limit;
    backend_ = std::make_shared<testing::FakeBackend>();
    api_ = std::make_unique<Api>(config);
    api_->set_backend(backend_);
    server_ = std::make_unique<HttpServer>(options_, api_->handler());
    ASSERT_TRUE(server_->listen_tcp("127.0.0.1", 0).ok());
    server_->start();
  }
  void TearDown() override { server_.reset(); }

  HttpServerOptions options_;
  std::shared_ptr<testing::FakeBackend> backend_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ConnectionLimitsTest, AnIdleConnectionIsClosed) {
  options_.idle_timeout = milliseconds(100);
  start();
  Connection silent(server_->port());
  EXPECT_EQ(silent.read_all(), "");  // closed by the server, well before the 30 s receive timeout
  Connection kept(server_->port());
  kept.send("GET /health HTTP/1.1\r\nhost: x\r\n\r\n");
  const std::string answered = kept.read_all();  // answered, then closed once idle
  EXPECT_TRUE(answered.starts_with("HTTP/1.1 200 OK\r\n")) << answered;
  // The response says how long the connection stays open idle (at least a second).
  EXPECT_NE(answered.find("\r\nkeep-alive: timeout=1\r\n"), std::string::npos) << answered;
  EXPECT_TRUE(eventually([&] { return server_->open_connections() == 0; }));
}

TEST_F(ConnectionLimitsTest, SlowHeadersAndBodiesGet408) {
  options_.header_timeout = milliseconds(150);
  options_.body_timeout = milliseconds(150);
  start();
  Connection slow_header(server_->port());
  slow_header.send("POST /generate HTTP/1.1\r\nho");
  std::string r = slow_header.read_all();
  EXPECT_TRUE(r.starts_with("HTTP/1.1 408 ")) << r;
  EXPECT_EQ(body_of(r), "Timed out reading the request headers");
  Connection slow_body(server_->port());
  slow_body.send(
      "POST /generate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 50\r\n\r\n{");
  r = slow_body.read_all();
  EXPECT_TRUE(r.starts_with("HTTP/1.1 408 ")) << r;
  EXPECT_EQ(body_of(r), "Timed out reading the request body");
}

TEST_F(ConnectionLimitsTest, JsonTooDeepOrOutOfRangeIs400) {
  options_.payload_limit = 1 << 20;
  start();
  std::string deep = "{\"inputs\":\"a\",\"zzz\":" + std::string(200, '[') + std::string(200, ']') + "}";
  std::string r;
  {
    Connection c(server_->port());
    c.send(post("/generate", deep));
    r = c.read_all();
  }
  EXPECT_TRUE(r.starts_with("HTTP/1.1 400 ")) << r;
  EXPECT_EQ(body_of(r),
            "Failed to parse the request body as JSON: recursion limit exceeded at line 1 column 148");
  for (const char* route : {"/generate", "/tokenize", "/v1/chat/completions", "/chat_tokenize"}) {
    Connection c(server_->port());
    c.send(post(route, R"({"inputs":"a","zzz":1e400})"));
    r = c.read_all();
    EXPECT_TRUE(r.starts_with("HTTP/1.1 400 ")) << route << ": " << r;
    EXPECT_EQ(body_of(r), "Failed to parse the request body as JSON: number out of range at line 1 column 26")
        << route;
  }
}

// With a response pending, the server reads a bounded amount ahead and then lets TCP hold the
// client back: far less than the client tries to push is ever accepted by the kernel.
TEST_F(ConnectionLimitsTest, BytesSentWhileAResponseIsPendingAreBounded) {
  start();
  backend_->released_tokens = 0;  // the response stays pending
  Connection c(server_->port());
  c.send(post("/generate", R"({"inputs":"hi","parameters":{"max_new_tokens":2}})", false));
  ASSERT_TRUE(eventually([&] { return backend_->submitted.load() == 1; }));
  ::fcntl(c.fd(), F_SETFL, ::fcntl(c.fd(), F_GETFL) | O_NONBLOCK);
  const std::string junk(1 << 16, 'x');
  int64_t accepted = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (accepted < (256 << 20) && std::chrono::steady_clock::now() < deadline) {
    const ssize_t n = ::send(c.fd(), junk.data(), junk.size(), MSG_NOSIGNAL);
    if (n > 0) {
      accepted += n;
    } else {
      pollfd writable{c.fd(), POLLOUT, 0};
      ::poll(&writable, 1, 50);
    }
  }
  // Loopback socket buffers hold a few MiB at most; an unbounded reader would take all 256 MiB.
  EXPECT_LT(accepted, int64_t{64} << 20);
  backend_->released_tokens = 1 << 30;
}

TEST_F(ConnectionLimitsTest, AStreamWhoseReaderFallsBehindIsCancelled) {
  options_.max_stream_backlog_bytes = 16 << 10;
  start();
  backend_->tokens_per_request = 1 << 20;
  Connection never_reads(server_->port(), 4096);
  never_reads.send(post("/generate_stream", R"({"inputs":"hi","parameters":{"max_new_tokens":1000000}})"));
  EXPECT_TRUE(eventually([&] { return backend_->cancelled.load() == 1; }));
  EXPECT_TRUE(eventually([&] { return server_->responses_in_flight() == 0; }));
}

TEST_F(ConnectionLimitsTest, ConnectionsBeyondTheCapAreClosed) {
  options_.max_connections = 2;
  start();
  Connection first(server_->port());
  Connection second(server_->port());
  ASSERT_TRUE(eventually([&] { return server_->open_connections() == 2; }));
  Connection third(server_->port());
  EXPECT_EQ(third.read_all(), "");
  first.send("GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
  EXPECT_TRUE(first.read_all().starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST_F(ConnectionLimitsTest, TheDrainClosesIdleConnectionsAndRefusesNewRequests) {
  start();
  backend_->released_tokens = 0;
  Connection streaming(server_->port());
  streaming.send(post("/generate_stream", R"({"inputs":"hi","parameters":{"max_new_tokens":3}})"));
  ASSERT_TRUE(eventually([&] { return backend_->submitted.load() == 1; }));
  Connection idle(server_->port());
  idle.send("GET /health HTTP/1.1\r\nhost: x\r\n\r\n");
  EXPECT_TRUE(idle.read_until("\r\n\r\n").starts_with("HTTP/1.1 200 OK\r\n"));
  Connection half_sent(server_->port());
  half_sent.send("GET /health HTTP/1.1\r\n");
  // Accepted, not just queued in the listen backlog (closing the listener resets those).
  ASSERT_TRUE(eventually([&] { return server_->open_connections() == 3; }));

  server_->stop_accepting();
  EXPECT_TRUE(idle.read_all().starts_with("HTTP/1.1 200 OK\r\n"));  // returns: the server closed it
  half_sent.send("host: x\r\n\r\n");
  const std::string refused = half_sent.read_all();
  EXPECT_TRUE(refused.starts_with("HTTP/1.1 503 ")) << refused;
  EXPECT_NE(refused.find("connection: close\r\n"), std::string::npos) << refused;
  EXPECT_EQ(body_of(refused), R"({"error":"The server is shutting down","error_type":"unavailable"})");
  backend_->released_tokens = 1 << 30;
  const std::string stream = streaming.read_all();  // the stream in flight completes
  EXPECT_NE(stream.find("\"generated_text\":\" tok1 tok2 tok3\""), std::string::npos) << stream;
  EXPECT_TRUE(eventually([&] { return server_->responses_in_flight() == 0; }));
}

// The client is still uploading its over-limit body when the 413 is written (as an HTTP client
// that sends the whole body before it reads does). Closing at once would reset the connection and
// fail the client's upload before it reads the answer; the server instead discards the rest for
// a while (lingering close), so the whole upload goes through and the client reads the 413.
TEST_F(ConnectionLimitsTest, AnOverLimitBodyGets413NotAReset) {
  options_.payload_limit = 1000;
  start();
  const std::string piece(64 << 10, 'a');
  const int pieces = 16;
  Connection c(server_->port());
  ASSERT_TRUE(
      c.send("POST /generate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: " +
             std::to_string(pieces * piece.size()) + "\r\n\r\n"));
  for (int i = 0; i < pieces; ++i) {
    EXPECT_TRUE(c.send(piece)) << "upload refused at piece " << i;
    std::this_thread::sleep_for(milliseconds(10));
  }
  const std::string r = c.read_all();
  EXPECT_TRUE(r.starts_with("HTTP/1.1 413 ")) << r;
  EXPECT_EQ(body_of(r), "Failed to buffer the request body: length limit exceeded");
}

TEST_F(ConnectionLimitsTest, AHandlerThatThrowsGets500WithABody) {
  start();
  HttpServer throwing(
      options_, [](HttpRequest, std::shared_ptr<ResponseChannel>) { throw std::runtime_error("boom"); });
  ASSERT_TRUE(throwing.listen_tcp("127.0.0.1", 0).ok());
  throwing.start();
  Connection c(throwing.port());
  c.send("GET /x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
  const std::string r = c.read_all();
  EXPECT_TRUE(r.starts_with("HTTP/1.1 500 ")) << r;
  EXPECT_EQ(body_of(r), R"({"error":"Internal server error: boom","error_type":"internal"})");
}

}  // namespace
}  // namespace tgi::server
