#include "server/generation_run.h"

#include <algorithm>
#include <map>

#include "server/request_log.h"

namespace tgi::server {

namespace {

struct RunState {
  std::shared_ptr<Metrics> metrics;
  ValidatedRequest request;
  ConcurrencyLimit::Permit permit;
  GenerationObserver observer;
  GenerationLabel label;
  Clock::time_point arrival;
  Clock::time_point queued;
  std::shared_ptr<SubmittedRequest> handle;
  std::map<int32_t, GenerationResult> candidates;
  std::vector<GenerationResult> finished_others;
  bool done = false;
  bool dropped = false;
  bool logged = false;  // the request's one log line is out

  // The log record's common part; the caller adds the outcome.
  RequestLogRecord log_record() const {
    RequestLogRecord record;
    record.span = label.stream ? "generate_stream" : "generate";
    record.route = label.route;
    record.request_id = label.request_id;
    record.total_seconds = std::chrono::duration<double>(Clock::now() - arrival).count();
    record.validation_seconds = std::chrono::duration<double>(queued - arrival).count();
    record.input_tokens = request.input_length;
    return record;
  }

  void log_once(const RequestLogRecord& record) {
    if (logged) return;
    logged = true;
    log_request(record);
  }

  void log_failure(const ApiError& error) {
    RequestLogRecord record = log_record();
    record.error_type = error.type;
    record.error_message = error.message;
    log_once(record);
  }

  // The client went away first: what it got so far (the longest candidate).
  void log_dropped() {
    RequestLogRecord record = log_record();
    record.error_type = "dropped";
    for (const auto& [index, candidate] : candidates)
      record.generated_tokens =
          std::max<int64_t>(record.generated_tokens, static_cast<int64_t>(candidate.tokens.size()));
    log_once(record);
  }

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
        result.speculated_tokens = event.speculated_tokens;
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
          log_failure(error);
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
    metrics->skipped_tokens.observe(static_cast<double>(result.speculated_tokens));
    RequestLogRecord record = log_record();
    record.total_seconds = total;
    record.queue_seconds = result.queue_seconds;
    record.inference_seconds = result.inference_seconds;
    record.generated_tokens = result.generated_tokens;
    record.finish_reason = engine::to_string(result.finish_reason);
    record.seed = result.seed;
    log_once(record);
    observer.on_end(result, finished_others);
    permit.reset();
  }
};

}  // namespace

void start_generation(Backend& backend, std::shared_ptr<Metrics> metrics, ValidatedRequest request,
                      ConcurrencyLimit::Permit permit, std::shared_ptr<ResponseChannel> channel,
                      GenerationObserver observer, Clock::time_point arrival, GenerationLabel label) {
  auto state = std::make_shared<RunState>();
  state->label = std::move(label);
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
    state->log_failure(error);
    state->observer.on_error(error);
    return;
  }
  state->handle = *submitted;
  channel->on_disconnect([state] {
    if (state->done) return;
    state->dropped = true;
    state->metrics->count_failure("dropped");
    state->log_dropped();
    if (state->handle) state->handle->cancel();
  });
}

}  // namespace tgi::server
