// The files compiled into the binary for /docs: the OpenAPI document is valid JSON covering our
// routes, and the page loads Swagger UI from this server only.
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/embedded_assets.h"

namespace tgi::server {
namespace {

TEST(EmbeddedAssets, OpenApiDocumentParsesAndCoversTheRoutes) {
  const nlohmann::json doc = nlohmann::json::parse(openapi_json(), nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(doc.is_discarded()) << "docs/openapi.json is not valid JSON";
  ASSERT_TRUE(doc.contains("openapi"));
  ASSERT_TRUE(doc["openapi"].is_string());
  EXPECT_TRUE(doc["openapi"].get<std::string>().starts_with("3.")) << doc["openapi"];
  ASSERT_TRUE(doc.contains("paths"));
  const nlohmann::json& paths = doc["paths"];
  for (const char* path :
       {"/generate", "/generate_stream", "/v1/chat/completions", "/v1/completions", "/v1/messages",
        "/v1/responses", "/tokenize", "/info", "/health", "/docs", "/api-doc/openapi.json"})
    EXPECT_TRUE(paths.contains(path)) << path;
  EXPECT_TRUE(paths["/v1/chat/completions"].contains("post"));
  EXPECT_TRUE(paths["/docs"].contains("get"));
}

TEST(EmbeddedAssets, OpenApiDocumentDeclaresTheErrorBodyAndBearerAuth) {
  const nlohmann::json doc = nlohmann::json::parse(openapi_json(), nullptr, false);
  ASSERT_TRUE(doc.is_object());
  const nlohmann::json& components = doc["components"];
  const nlohmann::json& error = components["schemas"]["ErrorResponse"];
  EXPECT_TRUE(error["properties"].contains("error"));
  EXPECT_TRUE(error["properties"].contains("error_type"));
  EXPECT_EQ(components["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
}

TEST(EmbeddedAssets, DocsPageLoadsOnlyFromThisServer) {
  const std::string html = docs_html();
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("//cdn"), std::string::npos);
  EXPECT_NE(html.find("\"/docs/swagger-ui-bundle.js\""), std::string::npos);
  EXPECT_NE(html.find("\"/docs/swagger-ui.css\""), std::string::npos);
  EXPECT_NE(html.find("/api-doc/openapi.json"), std::string::npos);
  EXPECT_NE(html.find("SwaggerUIBundle("), std::string::npos);
}

TEST(EmbeddedAssets, SwaggerUiFilesAreTheRealOnes) {
  const std::string_view bundle = swagger_ui_bundle_js();
  EXPECT_GT(bundle.size(), 500u * 1024u);  // the 5.x bundle is about 1.8 MB
  EXPECT_NE(bundle.find("SwaggerUIBundle"), std::string_view::npos);

  const std::string_view css = swagger_ui_css();
  EXPECT_GT(css.size(), 10u * 1024u);
  ASSERT_FALSE(css.empty());
  // A stylesheet opens with a selector, an at-rule or a comment, not with markup or a script.
  EXPECT_TRUE(css.front() == '.' || css.front() == '@' || css.starts_with("/*")) << css.substr(0, 40);
  EXPECT_NE(css.find(".swagger-ui"), std::string_view::npos);
  EXPECT_NE(css.find('{'), std::string_view::npos);
}

}  // namespace
}  // namespace tgi::server
