#pragma once
// TGI's HTTP API on top of a Backend: the route table (spec §1.1) and one handler per route.
// Handlers run on the connection's strand; generation results come back through GenerationRun.
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/backend.h"
#include "server/chat_pipeline.h"
#include "server/concurrency_limit.h"
#include "server/generation_run.h"
#include "server/http_types.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/server_config.h"

namespace tgi::server {

class Api {
 public:
  explicit Api(ServerConfig config);
  // Until a backend is set (model loading) /health answers 503 and generation routes fail.
  void set_backend(std::shared_ptr<Backend> backend);
  RequestHandler handler();
  const ServerConfig& config() const { return config_; }
  Metrics& metrics() { return *metrics_; }

 private:
  using Channel = std::shared_ptr<ResponseChannel>;
  std::shared_ptr<Backend> backend() const;

  // TGI generate family (generate_routes.cpp).
  void generate(HttpRequest request, Channel channel);
  void generate_stream(HttpRequest request, Channel channel);
  void compat_generate(HttpRequest request, Channel channel);
  void tokenize(HttpRequest request, Channel channel);
  void run_generate(const HttpRequest& request, const nlohmann::ordered_json& body, Channel channel, bool compat);
  void run_generate_stream(const HttpRequest& request, const nlohmann::ordered_json& body, Channel channel, bool compat);

  // OpenAI family (openai_routes.cpp).
  void chat_completions(HttpRequest request, Channel channel);
  void completions(HttpRequest request, Channel channel);
  void chat_tokenize(HttpRequest request, Channel channel);
  void invocations(HttpRequest request, Channel channel);
  // The chat pipeline under every chat API (chat_pipeline.cpp).
  void run_chat(const HttpRequest& request, const nlohmann::ordered_json& body, Channel channel,
                const ChatApiFlavor& flavor);
  ChatApiFlavor openai_chat_flavor(const nlohmann::ordered_json& body) const;
  std::string request_model_name(const nlohmann::ordered_json& body) const;
  void run_completions(const HttpRequest& request, const nlohmann::ordered_json& body, Channel channel);

  // Anthropic Messages (anthropic_routes.cpp) and OpenAI Responses (responses_routes.cpp).
  void anthropic_messages(HttpRequest request, Channel channel);
  void anthropic_count_tokens(HttpRequest request, Channel channel);
  void openai_responses(HttpRequest request, Channel channel);

  // llama.cpp's text utilities (text_routes.cpp).
  void detokenize(HttpRequest request, Channel channel);
  void apply_template(HttpRequest request, Channel channel);

  // /docs and /api-doc/openapi.json (docs_routes.cpp).
  void add_docs_routes();

  // Model and server state (info_routes.cpp).
  void info(HttpRequest request, Channel channel);
  void health(HttpRequest request, Channel channel);
  void metrics_route(HttpRequest request, Channel channel);
  void models(HttpRequest request, Channel channel);

  // Transport rules of spec §1.2: content type (415) and JSON syntax (400). Answers and returns
  // nullopt when the body is not acceptable JSON.
  std::optional<nlohmann::ordered_json> read_json_body(const HttpRequest& request, ResponseChannel& channel) const;
  static void send_error(ResponseChannel& channel, const ApiError& error);
  static void send_shape_error(ResponseChannel& channel, const Error& error);  // 422 text
  HttpHeaders generation_headers(const HttpRequest& request, const std::string& inputs) const;

  ServerConfig config_;
  std::shared_ptr<Metrics> metrics_;
  ConcurrencyLimit limit_;
  Router router_;
  mutable std::mutex backend_mutex_;
  std::shared_ptr<Backend> backend_;
};

// Characters (code points) in UTF-8 text, for x-compute-characters.
int64_t count_characters(const std::string& utf8);

}  // namespace tgi::server
