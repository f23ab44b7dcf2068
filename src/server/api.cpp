#include "server/api.h"

#include <spdlog/spdlog.h>

#include "server/json_limits.h"

namespace tgi::server {

Api::Api(ServerConfig config)
    : config_(std::move(config)),
      metrics_(std::make_shared<Metrics>(config_.limits.max_input_tokens, config_.limits.max_total_tokens)),
      limit_(config_.max_concurrent_requests),
      router_(RouterOptions{config_.api_key, config_.cors_allow_origin}) {
  auto bind = [this](void (Api::*method)(HttpRequest, Channel)) {
    return [this, method](HttpRequest request, Channel channel) { (this->*method)(std::move(request), channel); };
  };
  router_.add("POST", "/", true, bind(&Api::compat_generate));
  router_.add("GET", "/", false, bind(&Api::health));
  router_.add("POST", "/generate", true, bind(&Api::generate));
  router_.add("POST", "/generate_stream", true, bind(&Api::generate_stream));
  router_.add("POST", "/v1/chat/completions", true, bind(&Api::chat_completions));
  router_.add("POST", "/v1/completions", true, bind(&Api::completions));
  router_.add("POST", "/v1/responses", true, bind(&Api::openai_responses));
  router_.add("POST", "/v1/messages", true, bind(&Api::anthropic_messages));
  router_.add("POST", "/v1/messages/count_tokens", true, bind(&Api::anthropic_count_tokens));
  router_.add("POST", "/invocations", true, bind(&Api::invocations));
  router_.add("POST", "/tokenize", true, bind(&Api::tokenize));
  router_.add("POST", "/chat_tokenize", false, bind(&Api::chat_tokenize));
  router_.add("POST", "/detokenize", true, bind(&Api::detokenize));
  router_.add("POST", "/apply-template", false, bind(&Api::apply_template));
  router_.add("GET", "/info", false, bind(&Api::info));
  router_.add("GET", "/health", false, bind(&Api::health));
  router_.add("GET", "/ping", false, bind(&Api::health));
  router_.add("GET", "/metrics", false, bind(&Api::metrics_route));
  router_.add("GET", "/v1/models", false, bind(&Api::models));
  add_docs_routes();
}

void Api::set_backend(std::shared_ptr<Backend> backend) {
  std::lock_guard lock(backend_mutex_);
  backend_ = std::move(backend);
}

std::shared_ptr<Backend> Api::backend() const {
  std::lock_guard lock(backend_mutex_);
  return backend_;
}

RequestHandler Api::handler() {
  return [this](HttpRequest request, Channel channel) {
    spdlog::debug("{} {} request_id={}", request.method, request.path, request.request_id);
    router_.handle(std::move(request), std::move(channel));
  };
}

std::optional<nlohmann::ordered_json> Api::read_json_body(const HttpRequest& request, ResponseChannel& channel) const {
  const std::string* content_type = request.header("content-type");
  bool json_type = false;
  if (content_type) {
    std::string mime = content_type->substr(0, content_type->find(';'));
    while (!mime.empty() && mime.back() == ' ') mime.pop_back();
    for (char& c : mime) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    json_type = mime == "application/json" ||
                (mime.starts_with("application/") && mime.size() > 5 && mime.ends_with("+json"));
  }
  if (!json_type) {
    channel.send(HttpResponse{415, {{"content-type", "text/plain; charset=utf-8"}},
                              "Expected request with `Content-Type: application/json`"});
    return std::nullopt;
  }
  auto bad_json = [&](const std::string& detail) {
    channel.send(HttpResponse{400,
                              {{"content-type", "text/plain; charset=utf-8"}},
                              "Failed to parse the request body as JSON: " + detail});
  };
  if (auto violation = json_limit_violation(request.body)) {
    bad_json(*violation);
    return std::nullopt;
  }
  nlohmann::ordered_json body = nlohmann::ordered_json::parse(request.body, nullptr, false);
  if (body.is_discarded()) {
    // Re-parse with exceptions only on this (rare) path, to report where the syntax broke.
    std::string detail = "invalid JSON";
    try {
      auto reparsed = nlohmann::ordered_json::parse(request.body);
      (void)reparsed;
    } catch (const nlohmann::ordered_json::exception& e) {
      detail = e.what();
      auto colon = detail.find("] ");
      if (colon != std::string::npos) detail = detail.substr(colon + 2);
    }
    bad_json(detail);
    return std::nullopt;
  }
  return body;
}

void Api::send_error(ResponseChannel& channel, const ApiError& error) {
  channel.send(HttpResponse{error.status, {{"content-type", "application/json"}}, error.body()});
}

void Api::send_shape_error(ResponseChannel& channel, const Error& error) {
  channel.send(HttpResponse{422, {{"content-type", "text/plain; charset=utf-8"}},
                            "Failed to deserialize the JSON body into the target type: " + error.message});
}

HttpHeaders Api::generation_headers(const HttpRequest&, const std::string& inputs) const {
  return {{"x-compute-type", config_.compute_type},
          {"x-compute-characters", std::to_string(count_characters(inputs))}};
}

int64_t count_characters(const std::string& utf8) {
  int64_t count = 0;
  for (unsigned char c : utf8)
    if ((c & 0xC0) != 0x80) ++count;
  return count;
}

}  // namespace tgi::server
