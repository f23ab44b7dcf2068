// TGI's API documentation routes: /docs (Swagger UI, its script and stylesheet served from the
// binary) and /api-doc/openapi.json (embedded_assets.h).
#include "server/api.h"
#include "server/embedded_assets.h"

namespace tgi::server {

void Api::add_docs_routes() {
  // The assets never change within a build: clients may cache them for a day.
  auto serve = [](std::string content_type, std::function<std::string()> body, bool cacheable) {
    return [content_type, body, cacheable](HttpRequest, Channel channel) {
      HttpHeaders headers{{"content-type", content_type}};
      if (cacheable) headers.emplace_back("cache-control", "public, max-age=86400");
      channel->send(HttpResponse{200, std::move(headers), body()});
    };
  };
  const auto html = serve(
      "text/html; charset=utf-8", [] { return docs_html(); }, false);
  router_.add("GET", "/docs", false, html);
  router_.add("GET", "/docs/", false, html);
  router_.add(
      "GET", "/docs/swagger-ui-bundle.js", false,
      serve(
          "text/javascript; charset=utf-8", [] { return std::string(swagger_ui_bundle_js()); }, true));
  router_.add("GET", "/docs/swagger-ui.css", false,
              serve(
                  "text/css; charset=utf-8", [] { return std::string(swagger_ui_css()); }, true));
  router_.add("GET", "/api-doc/openapi.json", false,
              serve(
                  "application/json", [] { return std::string(openapi_json()); }, false));
}

}  // namespace tgi::server
