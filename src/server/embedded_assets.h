#pragma once
// Files compiled into the binary for the /docs page: the vendored Swagger UI script and
// stylesheet (third_party/swagger-ui) and our OpenAPI document (docs/openapi.json). They are
// embedded at build time, so /docs works offline and needs nothing beside the executable.
#include <string>
#include <string_view>

namespace tgi::server {

// The bytes of each embedded file, exactly as on disk; valid for the life of the process.
std::string_view swagger_ui_bundle_js();  // served at /docs/swagger-ui-bundle.js
std::string_view swagger_ui_css();        // served at /docs/swagger-ui.css
std::string_view openapi_json();          // served at /api-doc/openapi.json

// The HTML served at /docs: Swagger UI showing /api-doc/openapi.json, loading its script and
// stylesheet from the two /docs/ paths above and nothing from elsewhere.
std::string docs_html();

}  // namespace tgi::server
