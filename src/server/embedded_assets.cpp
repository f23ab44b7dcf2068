#include "server/embedded_assets.h"

#include <cstddef>

// The build names the files to embed (CMakeLists.txt, which also lists them in OBJECT_DEPENDS:
// the compiler's dependency scan cannot see .incbin, so without that an edited file would not be
// re-embedded). A missing file stops the assembler with "file not found", so a build can never
// ship empty assets.
#ifndef TGI_SWAGGER_UI_DIR
#error "TGI_SWAGGER_UI_DIR must be defined as a string literal: the directory of the vendored Swagger UI"
#endif
#ifndef TGI_OPENAPI_JSON
#error "TGI_OPENAPI_JSON must be defined as a string literal: the path of docs/openapi.json"
#endif
#if !defined(__ELF__)
#error "embedded_assets.cpp embeds files with ELF assembler directives; port TGI_EMBED to this target"
#endif

// Emits `name_start` .. `name_end` around the file's bytes in read-only data, then one NUL after
// the end (not part of the view) so the text is also safe to hand to C string functions. The
// symbols are global but hidden, so LTO partitions can reach them and no shared object exports them.
// pushsection/popsection leave the compiler's current section as it was.
// clang-format off
#define TGI_EMBED(name, path)                                  \
  ".pushsection .rodata, \"a\"\n"                              \
  ".balign 16\n"                                               \
  ".globl " #name "_start\n"                                   \
  ".hidden " #name "_start\n"                                  \
  ".type " #name "_start, %object\n"                           \
  #name "_start:\n"                                            \
  ".incbin \"" path "\"\n"                                     \
  ".globl " #name "_end\n"                                     \
  ".hidden " #name "_end\n"                                    \
  #name "_end:\n"                                              \
  ".byte 0\n"                                                  \
  ".size " #name "_start, " #name "_end - " #name "_start\n"   \
  ".popsection\n"

asm(TGI_EMBED(tgi_embedded_swagger_ui_bundle_js, TGI_SWAGGER_UI_DIR "/swagger-ui-bundle.js")
    TGI_EMBED(tgi_embedded_swagger_ui_css, TGI_SWAGGER_UI_DIR "/swagger-ui.css")
    TGI_EMBED(tgi_embedded_openapi_json, TGI_OPENAPI_JSON));
// clang-format on

extern "C" {
extern const char tgi_embedded_swagger_ui_bundle_js_start[];
extern const char tgi_embedded_swagger_ui_bundle_js_end[];
extern const char tgi_embedded_swagger_ui_css_start[];
extern const char tgi_embedded_swagger_ui_css_end[];
extern const char tgi_embedded_openapi_json_start[];
extern const char tgi_embedded_openapi_json_end[];
}

namespace tgi::server {

namespace {

std::string_view between(const char* start, const char* end) {
  return std::string_view(start, static_cast<size_t>(end - start));
}

// Root-relative paths, so the page works whether it was reached as /docs or /docs/.
// validatorUrl: null keeps Swagger UI from sending the document to an online validator.
constexpr std::string_view kDocsHtml = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tgi-cpp API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<style>body { margin: 0; }</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api-doc/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
</script>
</body>
</html>
)html";

}  // namespace

std::string_view swagger_ui_bundle_js() {
  return between(tgi_embedded_swagger_ui_bundle_js_start, tgi_embedded_swagger_ui_bundle_js_end);
}

std::string_view swagger_ui_css() {
  return between(tgi_embedded_swagger_ui_css_start, tgi_embedded_swagger_ui_css_end);
}

std::string_view openapi_json() {
  return between(tgi_embedded_openapi_json_start, tgi_embedded_openapi_json_end);
}

std::string docs_html() {
  return std::string(kDocsHtml);
}

}  // namespace tgi::server
