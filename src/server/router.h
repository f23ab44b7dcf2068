#pragma once
// Method + path dispatch with TGI's edge behaviour: 404 (unknown path) and 405 (wrong method) with
// empty bodies, bearer auth on the routes TGI protects, CORS headers and preflight.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/http_types.h"

namespace tgi::server {

struct RouterOptions {
  std::optional<std::string> api_key;
  std::vector<std::string> cors_allow_origin;  // empty: any origin
};

class Router {
 public:
  explicit Router(RouterOptions options) : options_(std::move(options)) {}
  void add(const std::string& method, const std::string& path, bool requires_auth, RequestHandler handler);
  void handle(HttpRequest request, std::shared_ptr<ResponseChannel> channel) const;

 private:
  struct Route {
    bool requires_auth = false;
    RequestHandler handler;
  };
  bool authorized(const HttpRequest& request) const;
  RouterOptions options_;
  std::map<std::string, std::map<std::string, Route>> routes_;  // path → method → route
};

// The CORS headers for a response to `request` (empty when it carries no Origin).
HttpHeaders cors_headers(const HttpRequest& request, const std::vector<std::string>& allowed_origins);

}  // namespace tgi::server
