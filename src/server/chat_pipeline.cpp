// The chat pipeline shared by /v1/chat/completions, /v1/responses and /v1/messages (chat_pipeline.h).
#include "server/chat_pipeline.h"

#include <algorithm>

#include "server/api.h"
#include "server/chat_output_reader.h"
#include "server/chat_request.h"
#include "server/openai_chat_writer.h"
#include "server/responses.h"

namespace tgi::server {

namespace {

// The client's stop string that ended the text, for APIs that report it (Anthropic).
std::optional<std::string> matched_stop(const std::string& text, const std::vector<std::string>& stops) {
  for (const auto& stop : stops)
    if (!stop.empty() && text.size() >= stop.size() &&
        text.compare(text.size() - stop.size(), stop.size(), stop) == 0)
      return stop;
  return std::nullopt;
}

// The state of one request's choices, shared by their observers (all on the connection's strand).
struct ChatRun {
  ChatApiFlavor flavor;
  ChatReadOptions read_options;
  // The readers point into these. A copy, not the backend: the last reference to a run may go on an
  // engine thread, which must never be the one to destroy the backend.
  std::shared_ptr<const ChatTraits> traits;
  std::string prompt;
  std::vector<std::string> stops;
  bool stream = false;
  bool failed = false;
  size_t remaining = 0;
  HttpHeaders headers;
  std::vector<ChatOutcome> outcomes;
  std::vector<std::unique_ptr<ChatStreamWriter>> writers;
  std::vector<std::unique_ptr<ChatOutputReader>> readers;
  std::vector<std::optional<engine::TokenEvent>> held;  // each choice's final token until its end
  ChatUsage total;
};

}  // namespace

RenderedChat render_chat_request(const ChatRequest& request, const Backend& backend) {
  RenderedChat out;
  auto plan = plan_chat_prompt(request, backend.chat_traits());
  if (!plan.ok()) {
    out.error = ApiError::tool_error(plan.error().message);
    return out;
  }
  out.plan = std::move(*plan);
  auto rendered = backend.render_chat(out.plan.prompt);
  if (!rendered.ok()) {
    out.error = ApiError::template_error(rendered.error().message);
    return out;
  }
  out.prompt = std::move(*rendered);
  if (out.plan.continue_final) out.prompt = continue_final_message(out.prompt, *out.plan.continue_final);
  return out;
}

void Api::run_chat(const HttpRequest& request, const nlohmann::ordered_json& body, Channel channel,
                   const ChatApiFlavor& flavor) {
  const auto arrival = Clock::now();
  auto parsed = parse_chat_request(body);
  if (!parsed.ok()) return channel->send(flavor.shape_error_response(parsed.error().message));
  ChatRequest& chat = *parsed;
  metrics_->request_count.fetch_add(1);
  auto fail_http = [&](const ApiError& error) {
    metrics_->count_failure(error.failure_label());
    channel->send(flavor.error_response(error.status, error.message, error.type));
  };
  if (chat.n > 1 && !flavor.allow_n)
    return fail_http(ApiError{422, "Input validation error: `n` is not part of this API", "validation"});
  if (static_cast<int64_t>(chat.n) > config_.limits.max_client_batch_size)
    return fail_http(ApiError{422,
                              "Input validation error: `n` must be at most " +
                                  std::to_string(config_.limits.max_client_batch_size) +
                                  " (--max-client-batch-size)",
                              "validation"});
  auto backend_now = backend();
  if (!backend_now) return fail_http(ApiError::generation("the model is still loading"));
  RenderedChat rendered = render_chat_request(chat, *backend_now);
  if (rendered.error) return fail_http(*rendered.error);
  const std::string& prompt = rendered.prompt;
  const ChatPromptPlan* plan = &rendered.plan;

  auto run = std::make_shared<ChatRun>();
  run->flavor = flavor;
  run->read_options.parse_tool_calls = !plan->active_tools.empty();
  run->read_options.native_tools = plan->native_tools;
  run->read_options.separate_reasoning = config_.separate_reasoning;
  run->read_options.parallel_tool_calls = chat.parallel_tool_calls;
  run->traits = std::make_shared<ChatTraits>(backend_now->chat_traits());
  run->prompt = prompt;
  run->stream = chat.stream;
  run->remaining = chat.n;
  run->outcomes.resize(chat.n);
  run->held.resize(chat.n);

  GenerateParameters parameters = chat_parameters(chat);
  parameters.constraint = plan->forced_tool_calls;
  run->stops = parameters.stop;
  metrics_->request_count.fetch_add(1);  // the internal generation, as TGI counts it

  // Every choice is validated (and holds a permit) before any runs, so a request fails whole.
  std::vector<ValidatedRequest> validated_all;
  std::vector<ConcurrencyLimit::Permit> permits;
  std::optional<ApiError> failure;
  for (uint32_t i = 0; i < chat.n && !failure; ++i) {
    GenerateParameters choice_parameters = parameters;
    if (parameters.seed && i > 0) choice_parameters.seed = *parameters.seed + i;
    auto permit = limit_.try_acquire();
    if (!permit) {
      failure = ApiError::overloaded();
      break;
    }
    auto validated = validate_generate(prompt, choice_parameters, false, config_.limits, *backend_now);
    if (!validated.ok()) {
      failure = ApiError::from(validated.error());
      break;
    }
    validated_all.push_back(std::move(*validated));
    permits.push_back(std::move(permit));
  }
  run->headers = generation_headers(request, prompt);

  if (!chat.stream) {
    if (failure) return fail_http(*failure);
  } else {
    channel->start_stream(200, sse_headers(run->headers));
    const int64_t prompt_tokens = validated_all.empty() ? 0 : validated_all.front().input_length;
    for (uint32_t i = 0; i < chat.n; ++i) {
      auto writer = flavor.make_writer(i, prompt_tokens);
      if (auto* openai = dynamic_cast<OpenAiChatStreamWriter*>(writer.get()); openai && chat.logprobs)
        openai->request_logprobs();
      run->writers.push_back(std::move(writer));
    }
    if (failure) {
      metrics_->count_failure(failure->failure_label());
      channel->write(run->writers.front()->error(failure->message));
      channel->write(flavor.stream_tail(run->total, true));
      return channel->finish();
    }
    for (auto& writer : run->writers) channel->write(writer->begin());
    for (uint32_t i = 0; i < chat.n; ++i)
      run->readers.push_back(std::make_unique<ChatOutputReader>(*run->traits, prompt, run->read_options));
  }

  const bool logprobs = chat.logprobs;
  for (size_t index = 0; index < validated_all.size(); ++index) {
    GenerationObserver observer;
    observer.on_token = [channel, run, index, logprobs](const engine::TokenEvent& event) {
      if (!run->stream || run->failed) return;
      ChatStreamWriter& writer = *run->writers[index];
      if (logprobs)
        if (auto* openai = dynamic_cast<OpenAiChatStreamWriter*>(&writer))
          openai->add_logprob(chat_logprob_json(event.token, event.top_tokens));
      if (event.last) {
        run->held[index] = event;  // whether it is text depends on why the generation stopped
        return;
      }
      std::vector<chat::OutputDelta> deltas;
      run->readers[index]->push(event.token, deltas);
      for (const auto& delta : deltas) channel->write(writer.delta(delta));
    };
    observer.on_end = [channel, run, index, logprobs](GenerationResult& result,
                                                      std::vector<GenerationResult>&) {
      if (run->failed) return;
      ChatOutcome& outcome = run->outcomes[index];
      outcome.finish_reason = result.finish_reason;
      if (result.finish_reason == engine::FinishReason::kStopSequence)
        outcome.stop_sequence = matched_stop(result.generated_text, run->stops);
      outcome.usage = ChatUsage{result.input_length, result.generated_tokens, 0};
      run->total.prompt_tokens = result.input_length;  // one prompt, however many choices
      run->total.completion_tokens += result.generated_tokens;
      if (run->stream) {
        ChatStreamWriter& writer = *run->writers[index];
        ChatOutputReader& reader = *run->readers[index];
        std::vector<chat::OutputDelta> deltas;
        const engine::TokenInfo* last = run->held[index] ? &run->held[index]->token : nullptr;
        reader.finish(last, result.finish_reason, deltas);
        // OpenAI's final chunk carries the last text with the finish reason, as TGI's does.
        auto* openai = dynamic_cast<OpenAiChatStreamWriter*>(&writer);
        if (openai && !deltas.empty() && deltas.back().kind == chat::OutputDelta::Kind::kContent) {
          openai->set_final_content(deltas.back().text);
          deltas.pop_back();
        }
        for (const auto& delta : deltas) channel->write(writer.delta(delta));
        outcome.output = reader.output();
        channel->write(writer.end(outcome));
      } else {
        outcome.output = ChatOutputReader::read_all(*run->traits, run->prompt, run->read_options,
                                                    result.tokens, result.finish_reason);
        if (logprobs) {
          outcome.tokens = result.tokens;
          outcome.top_tokens = result.top_tokens;
        }
      }
      if (--run->remaining > 0) return;
      if (run->stream) {
        channel->write(run->flavor.stream_tail(run->total, false));
        return channel->finish();
      }
      HttpResponse response{200, run->headers, ""};
      response.headers.emplace_back("x-prompt-tokens", std::to_string(run->total.prompt_tokens));
      response.headers.emplace_back("x-generated-tokens", std::to_string(run->total.completion_tokens));
      response.headers.emplace_back("content-type", "application/json");
      response.body = run->flavor.response_body(run->outcomes, run->total);
      channel->send(std::move(response));
    };
    observer.on_error = [channel, run, index](const ApiError& error) {
      if (run->failed) return;
      run->failed = true;
      if (!run->stream)
        return channel->send(run->flavor.error_response(error.status, error.message, error.type));
      channel->write(run->writers[index]->error(error.message));
      channel->write(run->flavor.stream_tail(run->total, true));
      channel->finish();
    };
    start_generation(*backend_now, metrics_, std::move(validated_all[index]), std::move(permits[index]),
                     channel, std::move(observer), arrival,
                     GenerationLabel{request.path, request.request_id, chat.stream});
  }
}

}  // namespace tgi::server
