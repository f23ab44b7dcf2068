// Model and server state routes: /info, /health (+ /ping, GET /), /metrics, /v1/models (spec §1.11).
#include "server/api.h"
#include "server/responses.h"

namespace tgi::server {

namespace {

OutJson optional_string(const std::optional<std::string>& value) {
  if (!value) return nullptr;
  return *value;
}

}  // namespace

void Api::info(HttpRequest, Channel channel) {
  OutJson out;
  out["model_id"] = config_.model.model_id;
  out["model_sha"] = optional_string(config_.model.model_sha);
  out["model_pipeline_tag"] = optional_string(config_.model.pipeline_tag);
  out["max_concurrent_requests"] = config_.max_concurrent_requests;
  out["max_best_of"] = config_.limits.max_best_of;
  out["max_stop_sequences"] = config_.limits.max_stop_sequences;
  out["max_input_tokens"] = config_.limits.max_input_tokens;
  out["max_total_tokens"] = config_.limits.max_total_tokens;
  out["validation_workers"] = config_.validation_workers;
  out["max_client_batch_size"] = config_.limits.max_client_batch_size;
  out["router"] = "text-generation-router";
  out["version"] = kTgiVersion;
  out["sha"] = nullptr;
  out["docker_label"] = nullptr;
  // Beyond TGI: what a client of this implementation may want to know.
  out["model_dtype"] = config_.model.dtype;
  out["max_batch_total_tokens"] = config_.model.kv_budget_tokens;
  out["grammar_support"] = config_.limits.grammar_supported;  // off with --disable-grammar-support
  channel->send(HttpResponse{200, {{"content-type", "application/json"}}, dump(out)});
}

void Api::health(HttpRequest, Channel channel) {
  auto backend_now = backend();
  if (backend_now && backend_now->healthy()) return channel->send(HttpResponse{200, {}, ""});
  channel->send(HttpResponse{503, {{"content-type", "application/json"}},
                             R"({"error":"unhealthy","error_type":"healthcheck"})"});
}

void Api::metrics_route(HttpRequest, Channel channel) {
  auto backend_now = backend();
  EngineCounters counters = backend_now ? backend_now->counters() : EngineCounters{};
  channel->send(HttpResponse{200, {{"content-type", "text/plain; charset=utf-8"}}, metrics_->render(counters)});
}

void Api::models(HttpRequest, Channel channel) {
  OutJson model;
  model["id"] = config_.model.model_id;
  model["object"] = "model";
  model["created"] = 0;
  model["owned_by"] = config_.model.model_id;
  OutJson out;
  out["object"] = "list";
  out["data"] = OutJson::array({model});
  channel->send(HttpResponse{200, {{"content-type", "application/json"}}, dump(out)});
}

}  // namespace tgi::server
