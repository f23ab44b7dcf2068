#include "server/generation_run.h"

#include <map>

#include <spdlog/spdlog.h>

namespace tgi::server {

namespace {

struct RunState {
  std::shared_ptr<Metrics> metrics;
  ValidatedRequest request;
  ConcurrencyLimit::Permit permit;
  GenerationObserver observer;
  Clock::time_point arrival;
  Clock::time_point queued;
  std::shared_ptr<SubmittedRequest> handle;
  std::map<int32_t, GenerationResult> candidates;
  std::vector<GenerationResult> finished_others;
  bool done = false;
  bool dropped = false;

  void on_event(engine::TokenEvent& event) {
    if (done) return;
    GenerationResult& result = candidates[event.candidate];
    switch (event.kind) {
      case engine::TokenEvent::Kind::kPrompt:
        result.prefill = std::move(event.prompt);
        return;
      case engine::TokenEvent::Kind::kToken:
        result.tokens.push_back(event.token);
        result.top_tokens.push_back(event.top_tokens);
        if (request.best_of == 1 && observer.on_token) observer.on_token(event);
        return;
      case engine::TokenEvent::Kind::kEnd:
        result.finish_reason = event.finish_reason.value_or(engine::FinishReason::kLength);
        result.generated_text = std::move(event.generated_text);
        result.generated_tokens = event.generated_tokens;
        result.input_length = request.input_length;
        result.seed = request.sampling ? event.seed : std::nullopt;
        result.queue_seconds = event.queue_seconds;
        result.inference_seconds = event.inference_seconds;
        if (request.best_of > 1 && !event.best_of_winner) {
          finished_others.push_back(std::move(result));
          return;
        }
        return finish(result);
      case engine::TokenEvent::Kind::kError:
        done = true;
        if (dropped) {
          permit.reset();
          return;
        }
        {
          ApiError error = event.error ? ApiError::from(*event.error) : ApiError::generation("unknown error");
          metrics->count_failure(error.failure_label());
          observer.on_error(error);
        }
        permit.reset();
        return;
    }
  }

  void finish(GenerationResult& result) {
    done = true;
    metrics->request_success.fetch_add(1);
    const double total = std::chrono::duration<double>(Clock::now() - arrival).count();
    metrics->request_duration.observe(total);
    metrics->queue_duration.observe(result.queue_seconds);
    metrics->inference_duration.observe(result.inference_seconds);
    if (result.generated_tokens > 0)
      metrics->mean_time_per_token_duration.observe(result.inference_seconds / result.generated_tokens);
    metrics->generated_tokens.observe(static_cast<double>(result.generated_tokens));
    observer.on_end(result, finished_others);
    permit.reset();
  }
};

}  // namespace

void start_generation(Backend& backend, std::shared_ptr<Metrics> metrics, ValidatedRequest request,
                      ConcurrencyLimit::Permit permit, std::shared_ptr<ResponseChannel> channel,
                      GenerationObserver observer, Clock::time_point arrival) {
  auto state = std::make_shared<RunState>();
  state->metrics = std::move(metrics);
  state->permit = std::move(permit);
  state->observer = std::move(observer);
  state->arrival = arrival;
  state->queued = Clock::now();
  state->metrics->validation_duration.observe(std::chrono::duration<double>(state->queued - arrival).count());
  state->metrics->input_length.observe(static_cast<double>(request.input_length));
  state->metrics->max_new_tokens.observe(static_cast<double>(request.max_new_tokens));
  engine::GenerationRequest engine_request = request.engine_request;
  state->request = std::move(request);

  // Events arrive on the engine thread; everything about them happens on the connection's strand.
  // The sink holds the run only weakly: the connection owns it (through its disconnect callback),
  // so a backend that outlives the server never keeps a connection alive past its io_context.
  std::weak_ptr<ResponseChannel> weak_channel = channel;
  std::weak_ptr<RunState> weak_state = state;
  TokenEventSink sink = [weak_state, weak_channel](engine::TokenEvent event) {
    auto target = weak_channel.lock();
    auto run = weak_state.lock();
    if (target && run) target->post([run, event = std::move(event)]() mutable { run->on_event(event); });
  };
  auto submitted = backend.submit(std::move(engine_request), std::move(sink));
  if (!submitted.ok()) {
    state->done = true;
    ApiError error = ApiError::from(submitted.error());
    state->metrics->count_failure(error.failure_label());
    state->observer.on_error(error);
    return;
  }
  state->handle = *submitted;
  channel->on_disconnect([state] {
    if (state->done) return;
    state->dropped = true;
    state->metrics->count_failure("dropped");
    if (state->handle) state->handle->cancel();
  });
}

}  // namespace tgi::server
