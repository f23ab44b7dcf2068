#pragma once
// An Api with a scripted FakeBackend behind a real HttpServer on a loopback port, and the request
// helpers the HTTP-level server tests share.
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "fake_backend.h"
#include "loopback_connection.h"
#include "server/api.h"
#include "server/http_server.h"

namespace tgi::server {

inline std::string post(const std::string& path, const std::string& body,
                        const std::string& extra_headers = "",
                        const std::string& content_type = "application/json") {
  return "POST " + path + " HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: " + content_type +
         "\r\ncontent-length: " + std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

inline std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
}

inline std::string body_of(const std::string& response) {
  return response.substr(response.find("\r\n\r\n") + 4);
}

class LoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override { start(ServerConfig{}); }
  void start(ServerConfig config) {
    server_.reset();
    if (config.limits.max_input_tokens == 0) config.limits.max_input_tokens = 10;
    if (config.limits.max_total_tokens == 0) config.limits.max_total_tokens = 20;
    config.model.model_id = "fake/model";
    if (config.payload_limit == 2000000) config.payload_limit = 1000;
    backend_ = std::make_shared<testing::FakeBackend>();
    configure_backend(*backend_);
    api_ = std::make_unique<Api>(config);
    api_->set_backend(backend_);
    HttpServerOptions options{2, config.payload_limit};
    options.stream_keep_alive = keep_alive_;
    server_ = std::make_unique<HttpServer>(options, api_->handler());
    ASSERT_TRUE(server_->listen_tcp("127.0.0.1", 0).ok());
    server_->start();
  }
  void TearDown() override { server_.reset(); }
  virtual void configure_backend(testing::FakeBackend&) {}
  std::string exchange(const std::string& request) {
    Connection c(server_->port());
    c.send(request);
    return c.read_all();
  }

  std::chrono::milliseconds keep_alive_{15000};
  std::shared_ptr<testing::FakeBackend> backend_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace tgi::server
