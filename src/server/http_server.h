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
  // A connection with no request in progress is closed after this (idle keep-alive, or a client
  // that connects and sends nothing).
  std::chrono::milliseconds idle_timeout{60000};
  // From a request's first byte until its headers end, and from there until its body ends; past
  // either the client gets 408 and the connection is closed (slowloris).
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{60000};
  // Connections beyond this are closed as soon as they are accepted.
  int64_t max_connections = 1024;
  // A stream whose reader falls this far behind (bytes produced but not yet taken by the socket)
  // is cancelled: pausing its generation would keep its KV blocks and batch slot from everyone
  // else, and the kernel's socket buffers already absorb an ordinary reader's jitter.
  int64_t max_stream_backlog_bytes = 8 << 20;
  // While a response is pending, bytes the client sends (a pipelined request) are read ahead up
  // to this much; then reading stops until the response is done, so TCP holds the client back.
  int64_t max_read_ahead_bytes = 64 << 10;
  // After answering with `connection: close`, the server stops sending and discards what the
  // client still sends for up to this long before closing, so a client still uploading reads the
  // answer (413) instead of a reset (as nginx's lingering close).
  std::chrono::milliseconds lingering_close{2000};
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

  void start();  // starts the worker threads
  // The drain: closes the listeners and idle connections; a request that arrives afterwards on an
  // open connection gets 503 and `connection: close`; responses in progress finish, then close.
  void stop_accepting();
  int64_t responses_in_flight() const;
  int64_t open_connections() const;
  void stop();  // closes everything and joins the threads

  struct Impl;  // public so the connection type in the .cpp can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tgi::server
