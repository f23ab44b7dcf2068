#include "server/http_server.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace tgi::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

std::atomic<uint64_t> g_request_counter{0};

std::string status_line(int status) {
  auto reason = http::obsolete_reason(static_cast<http::status>(status));
  return fmt::format("HTTP/1.1 {} {}\r\n", status, std::string_view(reason.data(), reason.size()));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string new_request_id() {
  // Unique within the process and readable in logs; clients may send their own x-request-id.
  return fmt::format(
      "{:x}-{}",
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) & 0xffffffff,
      g_request_counter.fetch_add(1));
}

}  // namespace

// What stop() and the drain need from a live connection, whatever its socket type.
class LiveSession {
 public:
  virtual ~LiveSession() = default;
  // Called once the io threads have stopped: closes the socket and cancels what is in flight,
  // which also drops the request state that points back at the session.
  virtual void abandon() = 0;
  // The drain has begun: close now if idle, else after the response in progress.
  virtual void drain() = 0;
};

struct HttpServer::Impl {
  HttpServerOptions options;
  RequestHandler handler;
  net::io_context io{};
  std::optional<net::ip::tcp::acceptor> tcp_acceptor;
  std::optional<net::local::stream_protocol::acceptor> unix_acceptor;
  std::vector<std::thread> threads;
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> connections{0};
  std::atomic<bool> draining{false};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;

  std::mutex sessions_mutex;
  std::vector<std::weak_ptr<LiveSession>> sessions;

  Impl(HttpServerOptions o, RequestHandler h) : options(o), handler(std::move(h)) {}

  void track(const std::shared_ptr<LiveSession>& session) {
    std::lock_guard lock(sessions_mutex);
    if (sessions.size() >= 64 && (sessions.size() & (sessions.size() - 1)) == 0)
      std::erase_if(sessions, [](const auto& weak) { return weak.expired(); });
    sessions.push_back(session);
  }

  std::vector<std::shared_ptr<LiveSession>> live_sessions() {
    std::lock_guard lock(sessions_mutex);
    std::vector<std::shared_ptr<LiveSession>> live;
    for (const auto& weak : sessions)
      if (auto session = weak.lock()) live.push_back(std::move(session));
    return live;
  }

  template <typename Protocol>
  void accept(typename Protocol::acceptor& acceptor);
};

// One connection: reads a request, hands it to the handler, writes what the handler sends back
// (a whole response or a chunked stream), then reads the next one (keep-alive). Every wait on the
// client is bounded: for a request to start (idle), for its headers and for its body; and so is
// what the connection holds: bytes read ahead while a response is pending, and a stream's unsent
// output.
template <typename Protocol>
class Session : public ResponseChannel,
                public LiveSession,
                public std::enable_shared_from_this<Session<Protocol>> {
 public:
  using Socket = typename Protocol::socket;
  Session(Socket socket, HttpServer::Impl& server)
      : socket_(std::move(socket)),
        strand_(net::make_strand(server.io)),
        server_(server),
        keep_alive_timer_(strand_),
        read_timer_(strand_) {
    server_.connections.fetch_add(1);
  }
  ~Session() override { server_.connections.fetch_sub(1); }

  // Sockets accepted on the io_context are rebound to this session's strand.
  void start() {
    if constexpr (std::is_same_v<Protocol, net::ip::tcp>) {
      // Each SSE event is one small write that must leave at once: with Nagle's algorithm a write
      // behind an unacknowledged one waits for the client's (possibly delayed) ACK.
      error_code ignored;
      socket_.set_option(net::ip::tcp::no_delay(true), ignored);
    }
    net::dispatch(strand_, [self = this->shared_from_this()] { self->read_request(); });
  }

  void send(HttpResponse response) override {
    net::post(strand_, [self = this->shared_from_this(), response = std::move(response)]() mutable {
      if (self->response_state_ != kPending) return;
      std::string bytes = status_line(response.status);
      for (const auto& [name, value] : response.headers) bytes += name + ": " + value + "\r\n";
      bytes += fmt::format("content-length: {}\r\n", response.body.size());
      bytes += self->connection_header();
      bytes += "\r\n";
      if (self->method_ != "HEAD") bytes += response.body;
      self->response_state_ = kComplete;
      self->enqueue(std::move(bytes));
    });
  }

  void start_stream(int status, HttpHeaders headers) override {
    net::post(strand_, [self = this->shared_from_this(), status, headers = std::move(headers)] {
      if (self->response_state_ != kPending) return;
      std::string bytes = status_line(status);
      for (const auto& [name, value] : headers) bytes += name + ": " + value + "\r\n";
      bytes += "transfer-encoding: chunked\r\n";
      bytes += self->connection_header();
      bytes += "\r\n";
      self->response_state_ = kStreaming;
      self->enqueue(std::move(bytes));
      self->last_stream_write_ = std::chrono::steady_clock::now();
      self->arm_keep_alive(self->server_.options.stream_keep_alive);
    });
  }

  void write(std::string chunk) override {
    if (chunk.empty()) return;  // an empty chunk would end the stream
    net::post(strand_, [self = this->shared_from_this(), chunk = std::move(chunk)] {
      if (self->response_state_ != kStreaming || self->closed_) return;
      self->last_stream_write_ = std::chrono::steady_clock::now();
      self->enqueue(fmt::format("{:x}\r\n", chunk.size()) + chunk + "\r\n");
      if (self->outbox_bytes_ > self->server_.options.max_stream_backlog_bytes) {
        spdlog::warn("cancelling a stream whose reader fell {} bytes behind (--max-stream-backlog-bytes {})",
                     self->outbox_bytes_, self->server_.options.max_stream_backlog_bytes);
        self->on_client_gone();
      }
    });
  }

  void finish() override {
    net::post(strand_, [self = this->shared_from_this()] {
      if (self->response_state_ != kStreaming) return;
      self->response_state_ = kComplete;
      self->keep_alive_timer_.cancel();
      self->enqueue("0\r\n\r\n");
    });
  }

  void abandon() override { close(); }

  void drain() override {
    net::post(strand_, [self = this->shared_from_this()] {
      if (self->closed_) return;
      // Bytes already waiting are a request on its way: it gets its 503 rather than a close.
      error_code ec;
      const bool request_arriving = self->socket_.available(ec) > 0 && !ec;
      if (self->response_state_ == kIdle && self->read_phase_ == kAwaitingRequest && !request_arriving)
        self->close();
    });
  }

  void post(std::function<void()> task) override {
    net::post(strand_, [self = this->shared_from_this(), task = std::move(task)] { task(); });
  }

  void on_disconnect(std::function<void()> callback) override {
    net::post(strand_, [self = this->shared_from_this(), callback = std::move(callback)]() mutable {
      if (self->closed_) {
        if (self->response_state_ != kComplete || !self->outbox_.empty()) callback();
        return;
      }
      self->disconnect_callbacks_.push_back(std::move(callback));
    });
  }

 private:
  enum ResponseState { kIdle, kPending, kStreaming, kComplete };
  // What the connection waits for from the client, each with its own time limit.
  enum ReadPhase { kNotReading, kAwaitingRequest, kHeader, kBody };

  bool closes_after_response() const { return !keep_alive_ || server_.draining.load(); }

  // A connection kept open says how long it stays open idle (as Node's and Apache's servers do),
  // so a pooling client drops it before the server closes it instead of sending a request into a
  // connection that is closing, which a client cannot retry when the request is a POST.
  std::string connection_header() const {
    if (closes_after_response()) return "connection: close\r\n";
    const auto idle = std::chrono::duration_cast<std::chrono::seconds>(server_.options.idle_timeout).count();
    return fmt::format("keep-alive: timeout={}\r\n", std::max<int64_t>(1, idle));
  }

  // Sends ":\n\n" whenever the stream has been silent for the keep-alive interval.
  void arm_keep_alive(std::chrono::milliseconds wait) {
    const auto interval = server_.options.stream_keep_alive;
    if (interval.count() <= 0) return;
    keep_alive_timer_.expires_after(wait);
    keep_alive_timer_.async_wait([self = this->shared_from_this(), interval](error_code ec) {
      if (ec || self->closed_ || self->response_state_ != kStreaming) return;
      const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - self->last_stream_write_);
      if (idle < interval) return self->arm_keep_alive(interval - idle);
      self->enqueue("3\r\n:\n\n\r\n");
      self->last_stream_write_ = std::chrono::steady_clock::now();
      self->arm_keep_alive(interval);
    });
  }

  // One timer bounds whichever wait is current; on expiry it cancels the socket's operations and
  // the read handler sees `read_timed_out_`. A generation count makes a late expiry of an earlier
  // wait harmless.
  void arm_read_timer(std::chrono::milliseconds limit) {
    read_timed_out_ = false;  // an expiry that lost the race with its read's completion is void
    const uint64_t armed = ++read_timer_generation_;
    read_timer_.expires_after(limit);
    read_timer_.async_wait([self = this->shared_from_this(), armed](error_code ec) {
      if (ec || self->closed_ || self->read_timer_generation_ != armed) return;
      self->read_timed_out_ = true;
      error_code ignored;
      self->socket_.cancel(ignored);
    });
  }

  void disarm_read_timer() {
    ++read_timer_generation_;
    read_timer_.cancel();
  }

  void read_request() {
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(64 * 1024);
    parser_->body_limit(static_cast<uint64_t>(server_.options.payload_limit));
    if (buffer_.size() > 0) return read_header();  // a pipelined request is already here
    if (server_.draining.load()) return close();
    // Wait for the first byte under the idle limit; the header limit starts with it.
    read_phase_ = kAwaitingRequest;
    arm_read_timer(server_.options.idle_timeout);
    socket_.async_wait(Socket::wait_read,
                       net::bind_executor(strand_, [self = this->shared_from_this()](error_code ec) {
                         if (ec) return self->handle_read_error(ec);
                         self->read_header();
                       }));
  }

  void read_header() {
    read_phase_ = kHeader;
    arm_read_timer(server_.options.header_timeout);
    http::async_read_header(socket_, buffer_, *parser_,
                            net::bind_executor(strand_, [self = this->shared_from_this()](
                                                            error_code ec, size_t) { self->on_header(ec); }));
  }

  void on_header(error_code ec) {
    if (ec) return handle_read_error(ec);
    read_phase_ = kBody;
    arm_read_timer(server_.options.body_timeout);
    // A declared length over the limit is refused before any of the body is asked for.
    if (auto length = parser_->content_length();
        length && *length > static_cast<uint64_t>(server_.options.payload_limit))
      return handle_read_error(http::error::body_limit);
    auto& header = parser_->get();
    auto expect = header[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      auto continue_line = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      net::async_write(socket_, net::buffer(*continue_line),
                       net::bind_executor(
                           strand_, [self = this->shared_from_this(), continue_line](error_code ec, size_t) {
                             if (ec) return self->handle_read_error(ec);
                             self->read_body();
                           }));
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(socket_, buffer_, *parser_,
                     net::bind_executor(strand_, [self = this->shared_from_this()](error_code ec, size_t) {
                       self->on_request(ec);
                     }));
  }

  // Answers a request that cannot be read (413, 408, 400) and hangs up; a client that went away
  // or sat idle past the limit is simply closed.
  void handle_read_error(error_code ec) {
    disarm_read_timer();
    const ReadPhase phase = std::exchange(read_phase_, kNotReading);
    if (closed_) return;
    auto refuse = [this](int status, std::string body) {
      keep_alive_ = false;
      method_ = "POST";
      begin_exchange();
      send(HttpResponse{status, {{"content-type", "text/plain; charset=utf-8"}}, std::move(body)});
    };
    if (std::exchange(read_timed_out_, false)) {
      if (phase == kAwaitingRequest) return close();
      return refuse(408, phase == kHeader ? "Timed out reading the request headers"
                                          : "Timed out reading the request body");
    }
    if (ec == http::error::body_limit)
      return refuse(413, "Failed to buffer the request body: length limit exceeded");
    if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
        ec == net::error::operation_aborted || ec == net::error::broken_pipe) {
      return close();
    }
    refuse(400, "Bad Request");  // malformed HTTP
  }

  void on_request(error_code ec) {
    if (ec) return handle_read_error(ec);
    disarm_read_timer();
    read_phase_ = kNotReading;
    auto message = parser_->release();
    HttpRequest request;
    request.method = std::string(message.method_string());
    std::string_view target(message.target().data(), message.target().size());
    request.path = std::string(target.substr(0, target.find('?')));
    for (const auto& field : message) {
      auto name = lower(std::string_view(field.name_string().data(), field.name_string().size()));
      std::string value(field.value());
      auto [it, inserted] = request.headers.emplace(name, value);
      if (!inserted) it->second += ", " + value;
    }
    request.body = std::move(message.body());
    auto id = request.headers.find("x-request-id");
    request.request_id = id != request.headers.end() && !id->second.empty() ? id->second : new_request_id();
    keep_alive_ = message.keep_alive();
    method_ = request.method;
    begin_exchange();
    if (server_.draining.load()) {
      keep_alive_ = false;
      send(HttpResponse{503,
                        {{"content-type", "application/json"}},
                        R"({"error":"The server is shutting down","error_type":"unavailable"})"});
      return;
    }
    watch_for_disconnect();
    try {
      server_.handler(std::move(request), this->shared_from_this());
    } catch (const std::exception& e) {
      spdlog::error("request handler threw: {}", e.what());
      nlohmann::json body = {{"error", fmt::format("Internal server error: {}", e.what())},
                             {"error_type", "internal"}};
      send(HttpResponse{500,
                        {{"content-type", "application/json"}},
                        body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
    }
  }

  // While a response is being produced nothing should arrive from the client; a read that ends
  // means the client went away, which cancels the request. Pipelined bytes are kept for later, up
  // to max_read_ahead_bytes; past that reading stops and TCP makes the client wait. After a
  // response that closes the connection, reads only discard (the lingering close).
  void watch_for_disconnect() {
    watching_ = true;
    socket_.async_read_some(
        net::buffer(watch_buffer_),
        net::bind_executor(strand_, [self = this->shared_from_this()](error_code ec, size_t n) {
          self->watching_ = false;
          if (self->lingering_) {
            if (ec) return self->close();
            return self->watch_for_disconnect();
          }
          if (!ec) {
            self->buffer_.commit(
                net::buffer_copy(self->buffer_.prepare(n), net::buffer(self->watch_buffer_, n)));
            if (self->response_state_ == kIdle) {
              self->resume_after_watch_ = false;
              return self->read_request();
            }
            if (static_cast<int64_t>(self->buffer_.size()) >= self->server_.options.max_read_ahead_bytes)
              return;
            return self->watch_for_disconnect();
          }
          if (ec == net::error::operation_aborted && self->resume_after_watch_) {
            self->resume_after_watch_ = false;
            return self->read_request();
          }
          if (ec == net::error::operation_aborted && self->closed_) return;
          self->on_client_gone();
        }));
  }

  void on_client_gone() {
    if (response_state_ == kComplete && outbox_.empty()) {
      disconnect_callbacks_.clear();  // nothing left to cancel; break the request-state cycle
      return;
    }
    closed_ = true;
    auto callbacks = std::move(disconnect_callbacks_);
    disconnect_callbacks_.clear();
    for (auto& callback : callbacks) callback();
    finish_exchange();
    close();
  }

  void enqueue(std::string bytes) {
    if (closed_) {
      if (response_state_ == kComplete) finish_exchange();
      return;
    }
    outbox_bytes_ += static_cast<int64_t>(bytes.size());
    outbox_.push_back(std::move(bytes));
    if (!writing_) write_next();
  }

  // Everything queued goes out in one gathered write: events that piled up while the previous
  // write was in flight (several tokens per step, a slow reader) cost one syscall, not one each.
  void write_next() {
    writing_ = true;
    in_write_ = outbox_.size();
    std::vector<net::const_buffer> buffers;
    buffers.reserve(in_write_);
    for (const std::string& bytes : outbox_) buffers.push_back(net::buffer(bytes));
    net::async_write(socket_, buffers,
                     net::bind_executor(strand_, [self = this->shared_from_this()](error_code ec, size_t) {
                       self->on_written(ec);
                     }));
  }

  void on_written(error_code ec) {
    writing_ = false;
    for (; in_write_ > 0; --in_write_) {  // deque::push_back kept the written strings in place
      outbox_bytes_ -= static_cast<int64_t>(outbox_.front().size());
      outbox_.pop_front();
    }
    if (ec) return on_client_gone();
    if (!outbox_.empty()) return write_next();
    if (response_state_ != kComplete) return;
    finish_exchange();
    if (closes_after_response()) return linger_then_close();
    response_state_ = kIdle;
    disconnect_callbacks_.clear();
    if (watching_) {
      resume_after_watch_ = true;
      error_code ignored;
      socket_.cancel(ignored);
    } else {
      read_request();
    }
  }

  // Stops sending (the client sees the end of the response and EOF) and discards what it still
  // sends until it closes or the lingering time runs out. Closing with unread bytes would make the
  // kernel send a reset, which a client still uploading may see before the answer.
  void linger_then_close() {
    if (closed_ || lingering_) return;
    lingering_ = true;
    disconnect_callbacks_.clear();
    buffer_.clear();
    error_code ignored;
    socket_.shutdown(Socket::shutdown_send, ignored);
    arm_read_timer(server_.options.lingering_close);
    if (!watching_) watch_for_disconnect();
  }

  void begin_exchange() {
    response_state_ = kPending;
    counted_done_ = false;
    server_.in_flight.fetch_add(1);
  }

  void finish_exchange() {
    if (counted_done_ || response_state_ == kIdle) return;
    counted_done_ = true;
    server_.in_flight.fetch_sub(1);
  }

  void close() {
    // Always drop the callbacks: they hold the request's state, which holds this session, and a
    // cycle left behind would keep every finished connection alive.
    auto callbacks = std::move(disconnect_callbacks_);
    disconnect_callbacks_.clear();
    if (response_state_ != kIdle && response_state_ != kComplete) {
      closed_ = true;
      for (auto& callback : callbacks) callback();
    }
    finish_exchange();
    closed_ = true;
    keep_alive_timer_.cancel();
    disarm_read_timer();
    error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  Socket socket_;
  net::strand<net::io_context::executor_type> strand_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  char watch_buffer_[4096];
  std::deque<std::string> outbox_;
  size_t in_write_ = 0;  // outbox_ entries the write in flight is sending
  int64_t outbox_bytes_ = 0;
  std::vector<std::function<void()>> disconnect_callbacks_;
  net::steady_timer keep_alive_timer_;
  net::steady_timer read_timer_;
  uint64_t read_timer_generation_ = 0;
  std::chrono::steady_clock::time_point last_stream_write_;
  std::string method_;
  ResponseState response_state_ = kIdle;
  ReadPhase read_phase_ = kNotReading;
  bool keep_alive_ = true;
  bool writing_ = false;
  bool watching_ = false;
  bool resume_after_watch_ = false;
  bool read_timed_out_ = false;
  bool lingering_ = false;
  bool closed_ = false;
  bool counted_done_ = false;
};

template <typename Protocol>
void HttpServer::Impl::accept(typename Protocol::acceptor& acceptor) {
  acceptor.async_accept(
      net::make_strand(io), [this, &acceptor](error_code ec, typename Protocol::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        if (ec) {
          // Out of descriptors (EMFILE) and the like: accepting again at once would spin; wait a little.
          spdlog::warn("accept failed: {}", ec.message());
          auto backoff = std::make_shared<net::steady_timer>(io, std::chrono::milliseconds(100));
          backoff->async_wait([this, &acceptor, backoff](error_code) { accept<Protocol>(acceptor); });
          return;
        }
        if (connections.load() >= options.max_connections) {
          spdlog::debug("refusing a connection: {} open (--max-connections)", connections.load());
          error_code ignored;
          socket.close(ignored);
        } else {
          auto session = std::make_shared<Session<Protocol>>(std::move(socket), *this);
          track(session);
          session->start();
        }
        accept<Protocol>(acceptor);
      });
}

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(options, std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

Result<void> HttpServer::listen_tcp(const std::string& host, uint16_t port) {
  error_code ec;
  auto address = net::ip::make_address(host, ec);
  if (ec) {
    spdlog::warn("invalid hostname {:?}, binding 0.0.0.0", host);
    address = net::ip::address_v4::any();
  }
  net::ip::tcp::endpoint endpoint(address, port);
  auto& acceptor = impl_->tcp_acceptor.emplace(impl_->io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error::make(ErrorKind::kIo, "cannot listen on {}:{}: {}", host, port, ec.message());
  impl_->accept<net::ip::tcp>(acceptor);
  return {};
}

Result<void> HttpServer::listen_unix(const std::string& path) {
  ::unlink(path.c_str());
  error_code ec;
  net::local::stream_protocol::endpoint endpoint(path);
  auto& acceptor = impl_->unix_acceptor.emplace(impl_->io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error::make(ErrorKind::kIo, "cannot listen on unix socket {}: {}", path, ec.message());
  impl_->accept<net::local::stream_protocol>(acceptor);
  return {};
}

uint16_t HttpServer::port() const {
  if (!impl_->tcp_acceptor) return 0;
  error_code ec;
  auto endpoint = impl_->tcp_acceptor->local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HttpServer::start() {
  impl_->work.emplace(impl_->io.get_executor());
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i)
    impl_->threads.emplace_back([this] { impl_->io.run(); });
}

void HttpServer::stop_accepting() {
  impl_->draining.store(true);
  net::post(impl_->io, [impl = impl_.get()] {
    error_code ignored;
    if (impl->tcp_acceptor) impl->tcp_acceptor->close(ignored);
    if (impl->unix_acceptor) impl->unix_acceptor->close(ignored);
  });
  for (const auto& session : impl_->live_sessions()) session->drain();
}

int64_t HttpServer::responses_in_flight() const {
  return impl_->in_flight.load();
}

int64_t HttpServer::open_connections() const {
  return impl_->connections.load();
}

void HttpServer::stop() {
  if (!impl_) return;
  impl_->work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
  std::vector<std::shared_ptr<LiveSession>> live = impl_->live_sessions();
  {
    std::lock_guard lock(impl_->sessions_mutex);
    impl_->sessions.clear();
  }
  for (const auto& session : live) session->abandon();
}

}  // namespace tgi::server
