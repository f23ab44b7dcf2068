#pragma once
// HTTP/1.1 on Boost.Beast: a few threads run every connection asynchronously (keep-alive, chunked
// streaming, many idle connections), TCP and optionally a Unix socket. Routing and everything
// TGI-specific live above it, in the RequestHandler.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "server/http_types.h"

namespace tgi::server {

struct HttpServerOptions {
  int threads = 2;
  int64_t payload_limit = 2000000;  // larger bodies get 413
  // A stream silent this long gets an SSE comment (":\n\n"), as TGI's axum keep-alive sends, so
  // proxies do not cut a long prefill. Zero turns it off.
  std::chrono::milliseconds stream_keep_alive{15000};
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, RequestHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds; port 0 picks a free port (see port()).
  Result<void> listen_tcp(const std::string& host, uint16_t port);
  Result<void> listen_unix(const std::string& path);
  uint16_t port() const;

  void start();           // starts the worker threads
  void stop_accepting();  // closes the listeners; open connections continue
  int64_t responses_in_flight() const;
  void stop();            // closes everything and joins the threads

  struct Impl;  // public so the connection type in the .cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tgi::server
