#pragma once
// The HTTP side of `tgi bench --url`: a small synchronous HTTP/1.1 client (Boost.Beast) that
// keeps one connection alive, POSTs a JSON body and hands each server-sent event of the response
// to a callback the moment it is read — plus the pure pieces it rests on (URL parsing, SSE event
// splitting), which the unit tests drive directly.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tgi::cli {

// What `--url` accepts: http://HOST[:PORT][/PREFIX]. No https, user info, query or fragment.
struct HttpUrl {
  std::string host;  // a name, IPv4 address, or IPv6 address without its brackets
  std::string port = "80";
  std::string path_prefix;  // "" or "/a/b" (no trailing slash): put in front of every route

  std::string host_header() const;  // "host:port", IPv6 in brackets
  std::string to_string() const;    // "http://" + host_header() + path_prefix
};
Result<HttpUrl> parse_http_url(std::string_view text);

// Splits a text/event-stream body, fed in chunks cut anywhere (inside a line, between "\r" and
// "\n"), into the data of its events: an event is the lines up to a blank line, its data the
// values of its "data:" lines (one leading space dropped) joined by "\n". Comment lines (":...",
// such as the server's keep-alive ":\n\n") and events without data lines yield nothing.
class SseSplitter {
 public:
  // Appends `chunk`; returns the data of every event it completed, in order.
  std::vector<std::string> feed(std::string_view chunk);
  // Whether bytes of an unfinished event are buffered (a stream that ends here was cut off).
  bool partial() const { return !line_.empty() || has_data_; }

 private:
  void end_line(std::vector<std::string>& events);

  std::string line_;  // the current line, without its terminator
  std::string data_;  // the current event's data so far
  bool has_data_ = false;
  bool after_cr_ = false;  // the last byte was "\r": a following "\n" belongs to it
};

// What came back for one request. Transport failures are errors; any HTTP status is a value.
struct StreamResponse {
  int status = 0;
  std::string body;              // a non-200 response's body (its first 4 KiB); empty for 200
  bool truncated_event = false;  // a 200 stream ended inside an event
};

// One keep-alive connection to one server; not thread-safe (one per client thread). Every step
// (connect, send, each read) fails after `timeout` without progress.
class HttpStreamClient {
 public:
  HttpStreamClient(HttpUrl url, std::string api_key,
                   std::chrono::seconds timeout = std::chrono::seconds(300));
  ~HttpStreamClient();
  HttpStreamClient(const HttpStreamClient&) = delete;
  HttpStreamClient& operator=(const HttpStreamClient&) = delete;

  // Opens the connection now (post_stream otherwise opens it when needed). The error names the
  // address and the system's reason ("Connection refused").
  Result<void> connect();

  // POSTs `json_body` to path_prefix + `route` and reads the whole response; for a 200 it calls
  // `on_event(data)` for each SSE event as soon as the bytes completing it arrive. A request that
  // finds a reused connection closed by the server is retried once on a fresh one.
  Result<StreamResponse> post_stream(const std::string& route, const std::string& json_body,
                                     const std::function<void(const std::string&)>& on_event);
  // GETs path_prefix + `route`: the status and the body (its first `max_body` bytes).
  Result<StreamResponse> get(const std::string& route, size_t max_body = 1 << 20);

 private:
  struct Impl;
  // Writes `request` (opening the connection when needed), then runs `read`, the response's first
  // read, which returns its error code. A reused connection that the server had closed meanwhile
  // gets one more try on a fresh one; `read` must then start a fresh parser.
  template <typename Request, typename Read>
  Result<void> exchange(const Request& request, Read&& read);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tgi::cli
