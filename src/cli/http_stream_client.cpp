#include "cli/http_stream_client.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace tgi::cli {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

Error bad_url(std::string_view text, std::string_view why) {
  return Error{ErrorKind::kInvalidArgument, fmt::format("bad --url '{}': {}", text, why)};
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char want, char got) {
           return std::tolower(static_cast<unsigned char>(got)) == want;
         });
}

}  // namespace

std::string HttpUrl::host_header() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return fmt::format("{}{}{}:{}", ipv6 ? "[" : "", host, ipv6 ? "]" : "", port);
}

std::string HttpUrl::to_string() const {
  return "http://" + host_header() + path_prefix;
}

Result<HttpUrl> parse_http_url(std::string_view text) {
  if (iequals_prefix(text, "https://")) return bad_url(text, "https is not supported, use http://");
  if (!iequals_prefix(text, "http://")) return bad_url(text, "expected http://HOST[:PORT][/PATH]");
  const std::string_view rest = text.substr(7);
  if (rest.find_first_of("?#") != std::string_view::npos)
    return bad_url(text, "a query or fragment is not allowed");
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) return bad_url(text, "user info is not supported");

  HttpUrl url;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(text, "unclosed '[' in the host");
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url(text, "expected ':PORT' after ']'");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos)
      return bad_url(text, "an IPv6 host goes in brackets: http://[::1]:8080");
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (url.host.empty()) return bad_url(text, "no host");
  if (has_port) {
    const bool digits = !port.empty() && port.size() <= 5 &&
                        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535)
      return bad_url(text, "the port must be a number from 1 to 65535");
    url.port = std::string(port);
  }
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    url.path_prefix = std::string(path);
  }
  return url;
}

std::vector<std::string> SseSplitter::feed(std::string_view chunk) {
  std::vector<std::string> events;
  for (const char c : chunk) {
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') continue;  // the "\n" of a "\r\n" split across chunks
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      end_line(events);
    } else {
      line_ += c;
    }
  }
  return events;
}

void SseSplitter::end_line(std::vector<std::string>& events) {
  if (line_.empty()) {  // a blank line dispatches the event
    if (has_data_) events.push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line_.front() != ':') {  // ":..." is a comment
    const size_t colon = line_.find(':');
    if (line_.compare(0, colon, "data") == 0) {
      size_t start = colon == std::string::npos ? line_.size() : colon + 1;
      if (start < line_.size() && line_[start] == ' ') ++start;
      if (has_data_) data_ += '\n';
      data_.append(line_, start, std::string::npos);
      has_data_ = true;
    }
  }
  line_.clear();
}

// Each step runs as an asynchronous operation on a private io_context, so that it can carry a
// deadline (the synchronous calls cannot): a server that goes silent fails the request instead of
// hanging the benchmark.
struct HttpStreamClient::Impl {
  HttpUrl url;
  std::string api_key;
  std::chrono::seconds timeout{0};
  net::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bool connected = false;

  // Starts one operation with `start(handler)` and runs it to its end or the deadline.
  template <typename Start>
  boost::system::error_code run(Start&& start) {
    boost::system::error_code result = net::error::operation_aborted;
    stream.expires_after(timeout);
    start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  void close() {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    buffer.clear();
    connected = false;
  }
};

HttpStreamClient::HttpStreamClient(HttpUrl url, std::string api_key, std::chrono::seconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->url = std::move(url);
  impl_->api_key = std::move(api_key);
  impl_->timeout = timeout;
}

HttpStreamClient::~HttpStreamClient() {
  impl_->close();
}

Result<void> HttpStreamClient::connect() {
  Impl& s = *impl_;
  s.close();
  boost::system::error_code ec;
  tcp::resolver resolver(s.io);
  const auto endpoints = resolver.resolve(s.url.host, s.url.port, ec);
  if (ec) return Error::make(ErrorKind::kIo, "cannot resolve {}: {}", s.url.host, ec.message());
  ec = s.run([&](auto handler) { s.stream.async_connect(endpoints, std::move(handler)); });
  if (ec) {
    s.close();
    return Error::make(ErrorKind::kIo, "cannot connect to {}: {}", s.url.host_header(), ec.message());
  }
  s.stream.socket().set_option(tcp::no_delay(true), ec);
  s.connected = true;
  return {};
}

namespace {

// What a kept-alive connection that the server has closed in the meantime fails with.
bool closed_by_peer(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe;
}

}  // namespace

template <typename Request, typename Read>
Result<void> HttpStreamClient::exchange(const Request& request, Read&& read) {
  Impl& s = *impl_;
  for (int attempt = 0;; ++attempt) {
    const bool reused = s.connected;
    if (!s.connected) TGI_TRY(connect());
    auto ec = s.run([&](auto handler) { http::async_write(s.stream, request, std::move(handler)); });
    if (!ec) ec = read();
    if (!ec) return {};
    s.close();
    // The server closed the kept-alive connection meanwhile: one more try on a fresh one.
    if (reused && attempt == 0 && closed_by_peer(ec)) continue;
    return Error::make(ErrorKind::kIo, "no response from {}: {}", s.url.host_header(), ec.message());
  }
}

Result<StreamResponse> HttpStreamClient::post_stream(
    const std::string& route, const std::string& json_body,
    const std::function<void(const std::string&)>& on_event) {
  Impl& s = *impl_;
  http::request<http::string_body> request{http::verb::post, s.url.path_prefix + route, 11};
  request.set(http::field::host, s.url.host_header());
  request.set(http::field::user_agent, "tgi-bench");
  request.set(http::field::content_type, "application/json");
  request.set(http::field::accept, "text/event-stream");
  if (!s.api_key.empty()) request.set(http::field::authorization, "Bearer " + s.api_key);
  request.keep_alive(true);
  request.body() = json_body;
  request.prepare_payload();

  std::optional<http::response_parser<http::buffer_body>> parser;
  TGI_TRY(exchange(request, [&] {
    parser.emplace();
    // No limit on a long stream. (Not boost::none: Boost 1.74 then rejects any content-length.)
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    return s.run(
        [&](auto handler) { http::async_read_header(s.stream, s.buffer, *parser, std::move(handler)); });
  }));
  StreamResponse response;
  response.status = static_cast<int>(parser->get().result_int());
  SseSplitter splitter;
  std::array<char, 16384> chunk{};
  while (!parser->is_done()) {
    parser->get().body().data = chunk.data();
    parser->get().body().size = chunk.size();
    // What has arrived, not a full buffer: each event is handed on when its bytes come.
    auto ec =
        s.run([&](auto handler) { http::async_read_some(s.stream, s.buffer, *parser, std::move(handler)); });
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      s.close();
      return Error::make(ErrorKind::kIo, "response from {} cut off: {}", s.url.host_header(), ec.message());
    }
    const std::string_view bytes(chunk.data(), chunk.size() - parser->get().body().size);
    if (response.status != 200) {
      response.body.append(bytes.substr(0, std::min<size_t>(bytes.size(), 4096 - response.body.size())));
      continue;
    }
    for (const std::string& event : splitter.feed(bytes)) on_event(event);
  }
  response.truncated_event = splitter.partial();
  if (!parser->keep_alive()) s.close();
  return response;
}

Result<StreamResponse> HttpStreamClient::get(const std::string& route, size_t max_body) {
  Impl& s = *impl_;
  http::request<http::empty_body> request{http::verb::get, s.url.path_prefix + route, 11};
  request.set(http::field::host, s.url.host_header());
  request.set(http::field::user_agent, "tgi-bench");
  if (!s.api_key.empty()) request.set(http::field::authorization, "Bearer " + s.api_key);
  request.keep_alive(true);
  std::optional<http::response_parser<http::string_body>> parser;
  TGI_TRY(exchange(request, [&] {
    parser.emplace();
    parser->body_limit(max_body);
    return s.run([&](auto handler) { http::async_read(s.stream, s.buffer, *parser, std::move(handler)); });
  }));
  StreamResponse response;
  response.status = static_cast<int>(parser->get().result_int());
  response.body = std::move(parser->get().body());
  if (!parser->keep_alive()) s.close();
  return response;
}

}  // namespace tgi::cli
