// OpenAI-compatible routes: /v1/chat/completions, /v1/completions, /chat_tokenize, and the
// SageMaker /invocations dispatcher (spec §1.8–1.10).
#include <chrono>

#include <fmt/format.h>

#include "server/api.h"
#include "server/chat_request.h"
#include "server/json_fields.h"
#include "server/responses.h"

namespace tgi::server {

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HttpHeaders sse_headers(HttpHeaders base) {
  base.emplace_back("content-type", "text/event-stream");
  base.emplace_back("cache-control", "no-cache");
  base.emplace_back("x-accel-buffering", "no");
  return base;
}

std::string token_content(const engine::TokenInfo& token) { return token.special ? "" : token.text; }

struct ChatStreamState {
  OpenAiIdentity id;
  bool logprobs = false;
  bool include_usage = false;
  bool tool_mode = false;
  std::optional<engine::TokenEvent> pending;

  std::string token_chunk(const engine::TokenEvent& event, const OutJson& finish_reason) const {
    OutJson delta;
    delta["role"] = "assistant";
    delta["content"] = token_content(event.token);
    OutJson logprob_json = nullptr;
    if (logprobs) {
      logprob_json = OutJson::object();
      logprob_json["content"] = OutJson::array({chat_logprob_json(event.token, event.top_tokens)});
    }
    return sse_event(chat_chunk_json(id, delta, logprob_json, finish_reason));
  }
};

}  // namespace

void Api::chat_completions(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  run_chat(request, *body, channel);
}

void Api::completions(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  run_completions(request, *body, channel);
}

void Api::invocations(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  if (body->is_object() && body->contains("inputs")) return run_generate(request, *body, channel, true);
  if (body->is_object() && body->contains("messages")) return run_chat(request, *body, channel);
  if (body->is_object() && body->contains("prompt")) return run_completions(request, *body, channel);
  send_shape_error(*channel, Error{ErrorKind::kInvalidArgument,
                                   "data did not match any variant of untagged enum SagemakerRequest"});
}

void Api::run_chat(const HttpRequest& request, const nlohmann::ordered_json& body, Channel channel) {
  const auto arrival = Clock::now();
  auto parsed = parse_chat_request(body);
  if (!parsed.ok()) return send_shape_error(*channel, parsed.error());
  ChatRequest& chat = *parsed;
  metrics_->request_count.fetch_add(1);
  auto fail_http = [&](const ApiError& error) {
    metrics_->count_failure(error.failure_label());
    send_error(*channel, error);
  };
  auto backend_now = backend();
  if (!backend_now) return fail_http(ApiError::generation("the model is still loading"));
  auto plan = plan_chat_prompt(chat, backend_now->template_uses_tools());
  if (!plan.ok()) return fail_http(ApiError::tool_error(plan.error().message));
  auto rendered = backend_now->render_chat(plan->prompt);
  if (!rendered.ok()) return fail_http(ApiError::template_error(rendered.error().message));
  std::string prompt = *rendered;
  if (plan->continue_final) prompt = continue_final_message(prompt, *plan->continue_final);

  GenerateParameters parameters = chat_parameters(chat);
  OpenAiIdentity id{chat.model && *chat.model != "tgi" ? *chat.model : config_.model.model_id,
                    fmt::format("{}-native", kTgiVersion), unix_now()};
  const bool tool_mode = !plan->active_tools.empty();
  metrics_->request_count.fetch_add(1);  // the internal generation, as TGI counts it

  if (!chat.stream) {
    auto permit = limit_.try_acquire();
    if (!permit) return fail_http(ApiError::overloaded());
    auto validated = validate_generate(prompt, parameters, false, config_.limits, *backend_now);
    if (!validated.ok()) return fail_http(ApiError::from(validated.error()));
    HttpHeaders headers = generation_headers(request, prompt);
    const bool logprobs = chat.logprobs;
    GenerationObserver observer;
    observer.on_end = [channel, headers, id, logprobs, tool_mode](GenerationResult& result,
                                                                 std::vector<GenerationResult>&) {
      OutJson message;
      message["role"] = "assistant";
      if (tool_mode) {
        auto call = parse_tool_call(result.generated_text);
        if (!call.ok()) return send_error(*channel, ApiError::tool_error(call.error().message));
        if (call->first == "no_tool") {
          // TGI re-runs without tools here; without grammar-constrained decoding we return the text.
          message["content"] = result.generated_text;
        } else {
          OutJson function;
          function["description"] = nullptr;
          function["name"] = call->first;
          function["arguments"] = call->second;
          OutJson tool_call;
          tool_call["id"] = "0";
          tool_call["type"] = "function";
          tool_call["function"] = std::move(function);
          message["tool_calls"] = OutJson::array({tool_call});
        }
      } else {
        message["content"] = result.generated_text;
      }
      OutJson logprob_json = nullptr;
      if (logprobs) {
        OutJson content = OutJson::array();
        for (size_t i = 0; i < result.tokens.size(); ++i)
          content.push_back(chat_logprob_json(result.tokens[i], i < result.top_tokens.size() ? result.top_tokens[i]
                                                                                          : std::vector<engine::TokenInfo>{}));
        logprob_json = OutJson::object();
        logprob_json["content"] = std::move(content);
      }
      HttpResponse response{200, headers, ""};
      response.headers.emplace_back("x-prompt-tokens", std::to_string(result.input_length));
      response.headers.emplace_back("x-generated-tokens", std::to_string(result.generated_tokens));
      response.headers.emplace_back("content-type", "application/json");
      response.body = chat_completion_json(id, message, logprob_json, openai_finish_reason(result.finish_reason),
                                           result.input_length, result.generated_tokens);
      channel->send(std::move(response));
    };
    observer.on_error = [channel](const ApiError& error) { send_error(*channel, error); };
    return start_generation(*backend_now, metrics_, std::move(*validated), std::move(permit), channel,
                            std::move(observer), arrival);
  }

  channel->start_stream(200, sse_headers(generation_headers(request, prompt)));
  auto fail_stream = [&](const ApiError& error) {
    metrics_->count_failure(error.failure_label());
    channel->write(sse_event(openai_stream_error(error.message)));
    channel->write(sse_event("[DONE]"));
    channel->finish();
  };
  auto permit = limit_.try_acquire();
  if (!permit) return fail_stream(ApiError::overloaded());
  auto validated = validate_generate(prompt, parameters, false, config_.limits, *backend_now);
  if (!validated.ok()) return fail_stream(ApiError::from(validated.error()));

  auto state = std::make_shared<ChatStreamState>();
  state->id = id;
  state->logprobs = chat.logprobs;
  state->include_usage = chat.include_usage;
  state->tool_mode = tool_mode;
  GenerationObserver observer;
  observer.on_token = [channel, state](const engine::TokenEvent& event) {
    if (state->tool_mode) return;  // tool calls are parsed from the whole text at the end
    if (event.last) {
      state->pending = event;  // the final chunk carries it with the finish reason
      return;
    }
    channel->write(state->token_chunk(event, nullptr));
  };
  observer.on_end = [channel, state](GenerationResult& result, std::vector<GenerationResult>&) {
    if (state->tool_mode) {
      auto call = parse_tool_call(result.generated_text);
      if (!call.ok()) {
        channel->write(sse_event(openai_stream_error(ApiError::tool_error(call.error().message).message)));
      } else {
        OutJson function;
        function["name"] = call->first;
        function["arguments"] = call->second;
        OutJson tool_call;
        tool_call["index"] = 0;
        tool_call["id"] = "0";
        tool_call["type"] = "function";
        tool_call["function"] = std::move(function);
        OutJson delta;
        delta["role"] = "assistant";
        delta["tool_calls"] = OutJson::array({tool_call});
        channel->write(sse_event(chat_chunk_json(state->id, delta, nullptr, nullptr)));
      }
    } else if (state->pending) {
      channel->write(state->token_chunk(*state->pending, openai_finish_reason(result.finish_reason)));
    }
    if (state->include_usage)
      channel->write(sse_event(chat_usage_chunk_json(state->id, result.input_length, result.generated_tokens)));
    channel->write(sse_event("[DONE]"));
    channel->finish();
  };
  observer.on_error = [channel, state](const ApiError& error) {
    if (state->pending && !state->tool_mode) channel->write(state->token_chunk(*state->pending, nullptr));
    channel->write(sse_event(openai_stream_error(error.message)));
    channel->write(sse_event("[DONE]"));
    channel->finish();
  };
  start_generation(*backend_now, metrics_, std::move(*validated), std::move(permit), channel, std::move(observer),
                   arrival);
}

namespace {

// Joins the independent generations of one /v1/completions request.
struct CompletionJoin {
  OpenAiIdentity id;
  size_t remaining = 0;
  bool failed = false;
  bool stream = false;
  std::vector<CompletionChoice> choices;  // completion order
  int64_t prompt_tokens = 0, completion_tokens = 0;
  HttpHeaders headers;
  std::vector<std::optional<engine::TokenEvent>> pending;  // stream: held-back token per prompt
};

}  // namespace

void Api::run_completions(const HttpRequest& request, const nlohmann::ordered_json& body, Channel channel) {
  const auto arrival = Clock::now();
  auto parsed = parse_completion_request(body);
  if (!parsed.ok()) return send_shape_error(*channel, parsed.error());
  CompletionRequest& completion = *parsed;
  metrics_->request_count.fetch_add(1);
  if (completion.suffix)
    return send_error(*channel, ApiError{422, "Suffix is not supported and can be achieved by preprocessing the prompt.",
                                         "suffix not supported"});
  if (static_cast<int64_t>(completion.prompts.size()) > config_.limits.max_client_batch_size)
    return send_error(*channel,
                      ApiError{422, fmt::format("Number of prompts exceeds the maximum allowed batch size of {}",
                                                config_.limits.max_client_batch_size),
                               "batch size exceeded"});
  auto backend_now = backend();
  if (!backend_now) return send_error(*channel, ApiError::generation("the model is still loading"));

  auto join = std::make_shared<CompletionJoin>();
  join->id = OpenAiIdentity{completion.model && *completion.model != "tgi" ? *completion.model : config_.model.model_id,
                            fmt::format("{}-native", kTgiVersion), unix_now()};
  join->stream = completion.stream;
  join->remaining = completion.prompts.size();
  join->pending.resize(completion.prompts.size());
  GenerateParameters parameters = completion_parameters(completion);
  parameters.decoder_input_details = false;  // prompt logprobs are never shown by this route

  // Validate every prompt first so a bad one fails the request before anything runs.
  std::vector<ValidatedRequest> validated_all;
  std::vector<ConcurrencyLimit::Permit> permits;
  std::string all_inputs;
  for (const std::string& prompt : completion.prompts) {
    metrics_->request_count.fetch_add(1);
    auto permit = limit_.try_acquire();
    auto error = [&]() -> std::optional<ApiError> {
      if (!permit) return ApiError::overloaded();
      auto validated = validate_generate(prompt, parameters, true, config_.limits, *backend_now);
      if (!validated.ok()) return ApiError::from(validated.error());
      validated_all.push_back(std::move(*validated));
      permits.push_back(std::move(permit));
      return std::nullopt;
    }();
    if (error) {
      metrics_->count_failure(error->failure_label());
      if (!completion.stream) return send_error(*channel, *error);
      channel->start_stream(200, sse_headers({{"x-compute-type", config_.compute_type}}));
      channel->write(sse_event(openai_stream_error(error->message)));
      channel->write(sse_event("[DONE]"));
      return channel->finish();
    }
    all_inputs += prompt;
  }
  join->headers = generation_headers(request, all_inputs);
  if (completion.stream) channel->start_stream(200, sse_headers(join->headers));

  for (size_t index = 0; index < validated_all.size(); ++index) {
    GenerationObserver observer;
    const int64_t i = static_cast<int64_t>(index);
    observer.on_token = [channel, join, index](const engine::TokenEvent& event) {
      if (!join->stream || join->failed) return;
      if (event.last) {
        join->pending[index] = event;  // the prompt's final chunk carries it
        return;
      }
      channel->write(sse_event(completion_chunk_json(join->id, static_cast<int64_t>(index), token_content(event.token))));
    };
    observer.on_end = [channel, join, index, i](GenerationResult& result, std::vector<GenerationResult>&) {
      if (join->failed) return;
      join->prompt_tokens += result.input_length;
      join->completion_tokens += result.generated_tokens;
      if (join->stream) {
        std::string text = join->pending[index] ? token_content(join->pending[index]->token) : "";
        channel->write(sse_event(completion_final_chunk_json(join->id, i, text, finish_reason_name(result.finish_reason),
                                                             result.input_length, result.generated_tokens)));
      } else {
        join->choices.push_back(CompletionChoice{i, result.generated_text, openai_finish_reason(result.finish_reason)});
      }
      if (--join->remaining > 0) return;
      if (join->stream) {
        channel->write(sse_event("[DONE]"));
        return channel->finish();
      }
      HttpResponse response{200, join->headers, ""};
      response.headers.emplace_back("x-prompt-tokens", std::to_string(join->prompt_tokens));
      response.headers.emplace_back("x-generated-tokens", std::to_string(join->completion_tokens));
      response.headers.emplace_back("content-type", "application/json");
      response.body = completion_json(join->id, join->choices, join->prompt_tokens, join->completion_tokens);
      channel->send(std::move(response));
    };
    observer.on_error = [channel, join](const ApiError& error) {
      if (join->stream) {
        channel->write(sse_event(openai_stream_error(error.message)));
        if (--join->remaining == 0) {
          channel->write(sse_event("[DONE]"));
          channel->finish();
        }
        return;
      }
      if (join->failed) return;
      join->failed = true;
      send_error(*channel, error);
    };
    start_generation(*backend_now, metrics_, std::move(validated_all[index]), std::move(permits[index]), channel,
                     std::move(observer), arrival);
  }
}

void Api::chat_tokenize(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  auto parsed = parse_chat_request(*body);
  if (!parsed.ok()) return send_shape_error(*channel, parsed.error());
  metrics_->request_count.fetch_add(1);
  auto backend_now = backend();
  if (!backend_now) return send_error(*channel, ApiError::generation("the model is still loading"));
  auto plan = plan_chat_prompt(*parsed, backend_now->template_uses_tools());
  if (!plan.ok()) return send_error(*channel, ApiError::tool_error(plan.error().message));
  auto rendered = backend_now->render_chat(plan->prompt);
  if (!rendered.ok()) return send_error(*channel, ApiError::template_error(rendered.error().message));
  std::string prompt = *rendered;
  if (plan->continue_final) prompt = continue_final_message(prompt, *plan->continue_final);
  auto encoding = backend_now->tokenize(prompt, false);
  if (!encoding.ok()) return send_error(*channel, ApiError::validation("tokenizer error " + encoding.error().message));
  OutJson tokens = OutJson::array();
  for (size_t i = 0; i < encoding->ids.size(); ++i) {
    auto [start, stop] = i < encoding->offsets.size() ? encoding->offsets[i] : std::pair<size_t, size_t>{0, 0};
    start = std::min(start, prompt.size());
    stop = std::min(std::max(stop, start), prompt.size());
    OutJson token;
    token["id"] = encoding->ids[i];
    token["text"] = prompt.substr(start, stop - start);
    token["start"] = start;
    token["stop"] = stop;
    tokens.push_back(std::move(token));
  }
  OutJson out;
  out["tokenize_response"] = std::move(tokens);
  out["templated_text"] = prompt;
  channel->send(HttpResponse{200, {{"content-type", "application/json"}}, dump(out)});
}

}  // namespace tgi::server
