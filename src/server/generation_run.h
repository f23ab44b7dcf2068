#pragma once
// Runs one validated request on the backend and turns its TokenEvents (engine thread) into calls
// on the connection's strand: tokens as they come, then one end or one error. Owns the permit,
// records the request metrics, logs the request's one line (request_log.h) and cancels the request
// when the client disconnects.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/api_error.h"
#include "server/backend.h"
#include "server/concurrency_limit.h"
#include "server/generate_request.h"
#include "server/http_types.h"
#include "server/metrics.h"
#include "server/responses.h"

namespace tgi::server {

struct GenerationObserver {
  // kToken events (best_of = 1 only), on the strand.
  std::function<void(const engine::TokenEvent&)> on_token;
  // The result (the winner with best_of > 1) and the other candidates.
  std::function<void(GenerationResult&, std::vector<GenerationResult>&)> on_end;
  std::function<void(const ApiError&)> on_error;
};

using Clock = std::chrono::steady_clock;

// Where a run comes from, for its log line. Empty fields are left out of the line.
struct GenerationLabel {
  std::string route;       // e.g. "/v1/chat/completions"
  std::string request_id;  // HttpRequest::request_id
  bool stream = false;     // TGI's span "generate_stream" rather than "generate"
};

// Submits and wires everything up; every observer call happens later, on `channel`'s strand.
void start_generation(Backend& backend, std::shared_ptr<Metrics> metrics, ValidatedRequest request,
                      ConcurrencyLimit::Permit permit, std::shared_ptr<ResponseChannel> channel,
                      GenerationObserver observer, Clock::time_point arrival, GenerationLabel label);

}  // namespace tgi::server
