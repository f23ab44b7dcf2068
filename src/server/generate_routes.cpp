// TGI's own generation routes: /generate, /generate_stream, compat `/`, /tokenize (spec §1.3–1.8).
#include <cmath>

#include <fmt/format.h>

#include "server/api.h"
#include "server/json_fields.h"
#include "server/responses.h"

namespace tgi::server {

namespace {

int64_t millis(double seconds) { return static_cast<int64_t>(std::llround(seconds * 1000.0)); }

// TGI's timing headers on non-streaming responses (spec §1.6).
HttpHeaders timing_headers(const GenerationResult& result, Clock::time_point arrival, double validation_seconds) {
  const double total = std::chrono::duration<double>(Clock::now() - arrival).count();
  const double per_token = result.generated_tokens > 0 ? result.inference_seconds / result.generated_tokens : 0.0;
  return {{"x-compute-time", fmt::format("{}", total)},
          {"x-total-time", std::to_string(millis(total))},
          {"x-validation-time", std::to_string(millis(validation_seconds))},
          {"x-queue-time", std::to_string(millis(result.queue_seconds))},
          {"x-inference-time", std::to_string(millis(result.inference_seconds))},
          {"x-time-per-token", std::to_string(millis(per_token))},
          {"x-prompt-tokens", std::to_string(result.input_length)},
          {"x-generated-tokens", std::to_string(result.generated_tokens)}};
}

// Tokens go out as they are sampled, except the last one: TGI's final event carries it together
// with generated_text and details, so it waits for the kEnd that follows it.
struct StreamState {
  int64_t index = 0;
  std::optional<engine::TokenEvent> pending;
  ResponseShape shape;
};

}  // namespace

void Api::generate(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  run_generate(request, *body, channel, false);
}

void Api::compat_generate(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  if (body->is_object()) {
    auto stream = read_field<bool>(*body, "", "stream", false);
    if (stream.ok() && stream->value_or(false)) return run_generate_stream(request, *body, channel, true);
  }
  run_generate(request, *body, channel, true);
}

void Api::generate_stream(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  run_generate_stream(request, *body, channel, false);
}

void Api::run_generate(const HttpRequest& request, const nlohmann::ordered_json& body, Channel channel, bool compat) {
  const auto arrival = Clock::now();
  auto parsed = parse_generate_request(body);
  if (!parsed.ok()) return send_shape_error(*channel, parsed.error());
  GenerateRequest& req = *parsed;
  if (compat && !req.parameters.return_full_text) {
    // `/` defaults return_full_text by pipeline tag: true for text-generation or unknown (§1.8).
    req.parameters.return_full_text =
        !config_.model.pipeline_tag || *config_.model.pipeline_tag == "text-generation";
  }
  metrics_->request_count.fetch_add(1);
  auto fail = [&](const ApiError& error) {
    metrics_->count_failure(error.failure_label());
    send_error(*channel, error);
  };
  auto best_of_check = validate_best_of_and_stream(req.parameters, false, config_.limits);
  if (!best_of_check.ok()) return fail(ApiError::from(best_of_check.error()));
  auto backend_now = backend();
  if (!backend_now) return fail(ApiError::generation("the model is still loading"));
  const int64_t permits = req.parameters.best_of ? std::max<int64_t>(1, *req.parameters.best_of) : 1;
  auto permit = limit_.try_acquire(permits);
  if (!permit) return fail(ApiError::overloaded());
  auto validated = validate_generate(req.inputs, req.parameters, true, config_.limits, *backend_now);
  if (!validated.ok()) return fail(ApiError::from(validated.error()));

  ResponseShape shape{validated->details, validated->decoder_input_details, validated->return_full_text, req.inputs};
  if (validated->decoder_input_details && !config_.enable_prefill_logprobs) {
    validated->engine_request.decoder_input_details = false;  // TGI answers `prefill: []` then
  }
  HttpHeaders headers = generation_headers(request, req.inputs);
  const double validation_seconds = std::chrono::duration<double>(Clock::now() - arrival).count();
  GenerationObserver observer;
  observer.on_end = [channel, shape, headers, arrival, validation_seconds, compat](
                        GenerationResult& result, std::vector<GenerationResult>& others) {
    HttpResponse response{200, headers, ""};
    auto timing = timing_headers(result, arrival, validation_seconds);
    response.headers.insert(response.headers.end(), timing.begin(), timing.end());
    response.headers.emplace_back("content-type", "application/json");
    OutJson out = generate_response_json(result, shape, others);
    response.body = compat ? dump(OutJson::array({out})) : dump(out);
    channel->send(std::move(response));
  };
  observer.on_error = [channel](const ApiError& error) { send_error(*channel, error); };
  start_generation(*backend_now, metrics_, std::move(*validated), std::move(permit), channel,
                   std::move(observer), arrival, GenerationLabel{request.path, request.request_id, false});
}

void Api::run_generate_stream(const HttpRequest& request, const nlohmann::ordered_json& body, Channel channel, bool compat) {
  const auto arrival = Clock::now();
  auto parsed = parse_generate_request(body);
  if (!parsed.ok()) return send_shape_error(*channel, parsed.error());
  GenerateRequest& req = *parsed;
  if (compat && !req.parameters.return_full_text) {
    req.parameters.return_full_text =
        !config_.model.pipeline_tag || *config_.model.pipeline_tag == "text-generation";
  }
  metrics_->request_count.fetch_add(1);
  // From here on every outcome is an SSE event on a 200 response (spec §1.7).
  channel->start_stream(200, sse_headers(generation_headers(request, req.inputs)));
  auto fail = [&](const ApiError& error) {
    metrics_->count_failure(error.failure_label());
    channel->write(sse_event(error.body()));
    channel->finish();
  };
  auto stream_check = validate_best_of_and_stream(req.parameters, true, config_.limits);
  if (!stream_check.ok()) return fail(ApiError::from(stream_check.error()));
  auto backend_now = backend();
  if (!backend_now) return fail(ApiError::generation("the model is still loading"));
  auto permit = limit_.try_acquire();
  if (!permit) return fail(ApiError::overloaded());
  auto validated = validate_generate(req.inputs, req.parameters, true, config_.limits, *backend_now);
  if (!validated.ok()) return fail(ApiError::from(validated.error()));

  auto state = std::make_shared<StreamState>();
  state->shape = ResponseShape{validated->details, false, validated->return_full_text, req.inputs};
  GenerationObserver observer;
  observer.on_token = [channel, state](const engine::TokenEvent& event) {
    if (event.last) {
      state->pending = event;
      return;
    }
    channel->write(generate_stream_event(++state->index, event.token, event.top_tokens, nullptr, state->shape));
  };
  observer.on_end = [channel, state](GenerationResult& result, std::vector<GenerationResult>&) {
    if (!state->pending) {
      channel->write(sse_event(ApiError::incomplete_generation_stream().body()));
    } else {
      channel->write(generate_stream_event(++state->index, state->pending->token, state->pending->top_tokens,
                                           &result, state->shape));
    }
    channel->finish();
  };
  observer.on_error = [channel, state](const ApiError& error) {
    if (state->pending) {
      channel->write(generate_stream_event(++state->index, state->pending->token, state->pending->top_tokens,
                                           nullptr, state->shape));
      state->pending.reset();
    }
    channel->write(sse_event(error.body()));
    channel->finish();
  };
  start_generation(*backend_now, metrics_, std::move(*validated), std::move(permit), channel,
                   std::move(observer), arrival, GenerationLabel{request.path, request.request_id, true});
}

void Api::tokenize(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  auto parsed = parse_generate_request(*body);
  if (!parsed.ok()) return send_shape_error(*channel, parsed.error());
  auto backend_now = backend();
  if (!backend_now) return send_error(*channel, ApiError::generation("the model is still loading"));
  auto encoding = backend_now->tokenize(parsed->inputs, true);
  if (!encoding.ok()) return send_error(*channel, ApiError::validation("tokenizer error " + encoding.error().message));
  OutJson tokens = OutJson::array();
  const std::string& inputs = parsed->inputs;
  for (size_t i = 0; i < encoding->ids.size(); ++i) {
    auto [start, stop] = i < encoding->offsets.size() ? encoding->offsets[i] : std::pair<size_t, size_t>{0, 0};
    start = std::min(start, inputs.size());
    stop = std::min(std::max(stop, start), inputs.size());
    OutJson token;
    token["id"] = encoding->ids[i];
    token["text"] = inputs.substr(start, stop - start);
    token["start"] = start;
    token["stop"] = stop;
    tokens.push_back(std::move(token));
  }
  channel->send(HttpResponse{200, {{"content-type", "application/json"}}, dump(tokens)});
}

}  // namespace tgi::server
