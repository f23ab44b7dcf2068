#include "server/router.h"

#include <algorithm>

#include <boost/algorithm/string/predicate.hpp>

namespace tgi::server {

namespace {

// Wraps a channel so every response it starts carries the CORS headers.
class CorsChannel : public ResponseChannel {
 public:
  CorsChannel(std::shared_ptr<ResponseChannel> inner, HttpHeaders extra)
      : inner_(std::move(inner)), extra_(std::move(extra)) {}
  void send(HttpResponse response) override {
    response.headers.insert(response.headers.end(), extra_.begin(), extra_.end());
    inner_->send(std::move(response));
  }
  void start_stream(int status, HttpHeaders headers) override {
    headers.insert(headers.end(), extra_.begin(), extra_.end());
    inner_->start_stream(status, std::move(headers));
  }
  void write(std::string chunk) override { inner_->write(std::move(chunk)); }
  void finish() override { inner_->finish(); }
  void post(std::function<void()> task) override { inner_->post(std::move(task)); }
  void on_disconnect(std::function<void()> callback) override { inner_->on_disconnect(std::move(callback)); }

 private:
  std::shared_ptr<ResponseChannel> inner_;
  HttpHeaders extra_;
};

}  // namespace

HttpHeaders cors_headers(const HttpRequest& request, const std::vector<std::string>& allowed_origins) {
  const std::string* origin = request.header("origin");
  if (!origin) return {};
  HttpHeaders headers;
  if (allowed_origins.empty()) {
    headers.emplace_back("access-control-allow-origin", "*");
  } else if (std::find(allowed_origins.begin(), allowed_origins.end(), *origin) != allowed_origins.end()) {
    headers.emplace_back("access-control-allow-origin", *origin);
  }
  headers.emplace_back("vary", "origin, access-control-request-method, access-control-request-headers");
  return headers;
}

void Router::add(const std::string& method, const std::string& path, bool requires_auth, RequestHandler handler) {
  routes_[path][method] = Route{requires_auth, std::move(handler)};
}

bool Router::authorized(const HttpRequest& request) const {
  if (!options_.api_key) return true;
  const std::string* header = request.header("authorization");
  // TGI compares the whole header with "Bearer <key>" ignoring case.
  if (header && boost::algorithm::iequals(*header, "Bearer " + *options_.api_key)) return true;
  // Anthropic's clients send the key alone in x-api-key.
  const std::string* api_key = request.header("x-api-key");
  return api_key && *api_key == *options_.api_key;
}

void Router::handle(HttpRequest request, std::shared_ptr<ResponseChannel> channel) const {
  HttpHeaders cors = cors_headers(request, options_.cors_allow_origin);
  if (!cors.empty()) channel = std::make_shared<CorsChannel>(std::move(channel), cors);

  auto path = routes_.find(request.path);
  if (request.method == "OPTIONS" && request.header("access-control-request-method")) {
    HttpResponse preflight{
        200,
        {{"access-control-allow-methods", "GET,POST"},
         {"access-control-allow-headers", "content-type, authorization, x-api-key, anthropic-version"}},
        ""};
    return channel->send(std::move(preflight));
  }
  if (path == routes_.end()) return channel->send(HttpResponse{404, {}, ""});
  auto route = path->second.find(request.method);
  if (route == path->second.end() && request.method == "HEAD") route = path->second.find("GET");
  if (route == path->second.end()) {
    std::string allow;
    for (const auto& [method, unused] : path->second) allow += (allow.empty() ? "" : ",") + method;
    return channel->send(HttpResponse{405, {{"allow", allow}}, ""});
  }
  if (route->second.requires_auth && !authorized(request)) return channel->send(HttpResponse{401, {}, ""});
  route->second.handler(std::move(request), std::move(channel));
}

}  // namespace tgi::server
