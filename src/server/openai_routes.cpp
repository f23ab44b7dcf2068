// OpenAI-compatible routes: /v1/chat/completions, /v1/completions, /chat_tokenize, and the
// SageMaker /invocations dispatcher (spec §1.8–1.10).
#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "server/api.h"
#include "server/chat_pipeline.h"
#include "server/chat_request.h"
#include "server/json_fields.h"
#include "server/openai_chat_writer.h"
#include "server/responses.h"

namespace tgi::server {

namespace {

std::string token_content(const engine::TokenInfo& token) { return token.special ? "" : token.text; }

OutJson chat_logprobs(const ChatOutcome& outcome) {
  OutJson content = OutJson::array();
  for (size_t i = 0; i < outcome.tokens.size(); ++i)
    content.push_back(chat_logprob_json(outcome.tokens[i], i < outcome.top_tokens.size()
                                                               ? outcome.top_tokens[i]
                                                               : std::vector<engine::TokenInfo>{}));
  OutJson out = OutJson::object();
  out["content"] = std::move(content);
  return out;
}

}  // namespace

std::string Api::request_model_name(const nlohmann::ordered_json& body) const {
  auto model = body.is_object() ? body.find("model") : body.end();
  if (model != body.end() && model->is_string() && *model != "tgi") return model->get<std::string>();
  return config_.model.model_id;
}

ChatApiFlavor Api::openai_chat_flavor(const nlohmann::ordered_json& body) const {
  OpenAiIdentity id{request_model_name(body), fmt::format("{}-native", kTgiVersion), unix_seconds_now()};
  const bool logprobs = body.is_object() && body.value("logprobs", nlohmann::ordered_json(false)) == true;
  ChatApiFlavor flavor;
  flavor.allow_n = true;
  flavor.response_body = [id, logprobs](const std::vector<ChatOutcome>& outcomes, const ChatUsage& total) {
    std::vector<ChatChoice> choices;
    for (size_t i = 0; i < outcomes.size(); ++i)
      choices.push_back(ChatChoice{static_cast<int64_t>(i), openai_chat_message(outcomes[i].output),
                                   logprobs ? chat_logprobs(outcomes[i]) : OutJson(nullptr),
                                   outcomes[i].openai_finish_reason()});
    return chat_completion_json(id, choices, total.prompt_tokens, total.completion_tokens);
  };
  flavor.make_writer = [id](int64_t index, int64_t) -> std::unique_ptr<ChatStreamWriter> {
    return std::make_unique<OpenAiChatStreamWriter>(id, index);
  };
  const bool include_usage =
      body.is_object() && body.contains("stream_options") && body["stream_options"].is_object() &&
      body["stream_options"].value("include_usage", nlohmann::ordered_json(false)) == true;
  flavor.stream_tail = [id, include_usage](const ChatUsage& total, bool failed) {
    std::string tail;
    if (include_usage && !failed)
      tail += sse_event(chat_usage_chunk_json(id, total.prompt_tokens, total.completion_tokens));
    return tail + sse_event("[DONE]");
  };
  flavor.error_response = [](int status, const std::string& message, const std::string& type) {
    return HttpResponse{
        status, {{"content-type", "application/json"}}, ApiError{status, message, type}.body()};
  };
  flavor.shape_error_response = [](const std::string& message) {
    return HttpResponse{422,
                        {{"content-type", "text/plain; charset=utf-8"}},
                        "Failed to deserialize the JSON body into the target type: " + message};
  };
  return flavor;
}

void Api::chat_completions(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  run_chat(request, *body, channel, openai_chat_flavor(*body));
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
  if (body->is_object() && body->contains("messages"))
    return run_chat(request, *body, channel, openai_chat_flavor(*body));
  if (body->is_object() && body->contains("prompt")) return run_completions(request, *body, channel);
  send_shape_error(*channel, Error{ErrorKind::kInvalidArgument,
                                   "data did not match any variant of untagged enum SagemakerRequest"});
}

namespace {

// Joins the independent generations of one /v1/completions request: every prompt, n times.
struct CompletionJoin {
  OpenAiIdentity id;
  size_t remaining = 0;
  bool failed = false;
  bool stream = false;
  bool logprobs = false;
  std::vector<CompletionChoice> choices;  // completion order; sorted by index at the end
  int64_t prompt_tokens = 0, completion_tokens = 0;
  HttpHeaders headers;
  std::vector<std::optional<engine::TokenEvent>> pending;  // stream: held-back token per choice
  std::vector<int64_t> offsets;                            // stream: text offset per choice
};

OutJson token_logprobs(const engine::TokenEvent& event, int64_t offset) {
  return completion_logprobs_json({event.token}, {event.top_tokens}, offset);
}

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
  const size_t choice_count = completion.prompts.size() * completion.n;
  if (static_cast<int64_t>(completion.prompts.size()) > config_.limits.max_client_batch_size)
    return send_error(*channel,
                      ApiError{422, fmt::format("Number of prompts exceeds the maximum allowed batch size of {}",
                                                config_.limits.max_client_batch_size),
                               "batch size exceeded"});
  if (static_cast<int64_t>(choice_count) > config_.limits.max_client_batch_size)
    return send_error(
        *channel, ApiError{422,
                           fmt::format("Number of choices (prompts × n) exceeds the maximum allowed batch "
                                       "size of {}",
                                       config_.limits.max_client_batch_size),
                           "batch size exceeded"});
  auto backend_now = backend();
  if (!backend_now) return send_error(*channel, ApiError::generation("the model is still loading"));

  auto join = std::make_shared<CompletionJoin>();
  join->id =
      OpenAiIdentity{request_model_name(body), fmt::format("{}-native", kTgiVersion), unix_seconds_now()};
  join->stream = completion.stream;
  join->logprobs = completion.logprobs.has_value();
  join->remaining = choice_count;
  join->pending.resize(choice_count);
  join->offsets.resize(choice_count, 0);
  GenerateParameters parameters = completion_parameters(completion);
  parameters.decoder_input_details = false;  // prompt logprobs are never shown by this route

  // Validate every choice first so a bad prompt fails the request before anything runs.
  std::vector<ValidatedRequest> validated_all;
  std::vector<ConcurrencyLimit::Permit> permits;
  std::string all_inputs;
  for (const std::string& prompt : completion.prompts) {
    for (uint32_t copy = 0; copy < completion.n; ++copy) {
      metrics_->request_count.fetch_add(1);
      GenerateParameters choice_parameters = parameters;
      if (parameters.seed && copy > 0) choice_parameters.seed = *parameters.seed + copy;
      auto permit = limit_.try_acquire();
      auto error = [&]() -> std::optional<ApiError> {
        if (!permit) return ApiError::overloaded();
        auto validated = validate_generate(prompt, choice_parameters, true, config_.limits, *backend_now);
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
        join->pending[index] = event;  // the choice's final chunk carries it
        return;
      }
      OutJson logprobs = nullptr;
      if (join->logprobs) {
        logprobs = token_logprobs(event, join->offsets[index]);
        join->offsets[index] += static_cast<int64_t>(event.token.text.size());
      }
      channel->write(sse_event(completion_chunk_json(join->id, static_cast<int64_t>(index),
                                                     token_content(event.token), logprobs)));
    };
    const bool counts_prompt = index % completion.n == 0;  // each prompt once, however many copies
    observer.on_end = [channel, join, index, i, counts_prompt](GenerationResult& result,
                                                               std::vector<GenerationResult>&) {
      if (join->failed) return;
      if (counts_prompt) join->prompt_tokens += result.input_length;
      join->completion_tokens += result.generated_tokens;
      if (join->stream) {
        const auto& held = join->pending[index];
        std::string text = held ? token_content(held->token) : "";
        OutJson logprobs = nullptr;
        if (join->logprobs && held) logprobs = token_logprobs(*held, join->offsets[index]);
        channel->write(
            sse_event(completion_final_chunk_json(join->id, i, text, finish_reason_name(result.finish_reason),
                                                  result.input_length, result.generated_tokens, logprobs)));
      } else {
        OutJson logprobs = nullptr;
        if (join->logprobs) logprobs = completion_logprobs_json(result.tokens, result.top_tokens, 0);
        join->choices.push_back(CompletionChoice{
            i, result.generated_text, openai_finish_reason(result.finish_reason), std::move(logprobs)});
      }
      if (--join->remaining > 0) return;
      if (join->stream) {
        channel->write(sse_event("[DONE]"));
        return channel->finish();
      }
      std::sort(join->choices.begin(), join->choices.end(),
                [](const CompletionChoice& a, const CompletionChoice& b) { return a.index < b.index; });
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
    start_generation(*backend_now, metrics_, std::move(validated_all[index]), std::move(permits[index]),
                     channel, std::move(observer), arrival,
                     GenerationLabel{request.path, request.request_id, completion.stream});
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
  RenderedChat rendered = render_chat_request(*parsed, *backend_now);
  if (rendered.error) return send_error(*channel, *rendered.error);
  const std::string& prompt = rendered.prompt;
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
