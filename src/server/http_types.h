#pragma once
// The HTTP layer's view of one exchange, independent of Beast: a parsed request, and a thread-safe
// channel to answer it either at once or as a chunked stream (SSE).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tgi::server {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;                         // "GET", "POST", ...
  std::string path;                           // target without the query string
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string request_id;  // x-request-id from the client, or generated

  const std::string* header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? nullptr : &it->second;
  }
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
};

// Every method may be called from any thread (the engine's included); work is serialized on the
// connection's strand. After the response is complete further calls are ignored.
class ResponseChannel {
 public:
  virtual ~ResponseChannel() = default;
  virtual void send(HttpResponse response) = 0;
  virtual void start_stream(int status, HttpHeaders headers) = 0;  // chunked transfer
  virtual void write(std::string chunk) = 0;
  virtual void finish() = 0;
  // Runs `task` on the connection's strand (the place to touch per-request state).
  virtual void post(std::function<void()> task) = 0;
  // Called once, on the strand, if the client goes away before the response completed.
  virtual void on_disconnect(std::function<void()> callback) = 0;
};

using RequestHandler = std::function<void(HttpRequest, std::shared_ptr<ResponseChannel>)>;

}  // namespace tgi::server
