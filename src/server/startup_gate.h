#pragma once
// The port is bound before the model loads, so an orchestrator or a user's curl sees a server
// that is starting — 503 with a JSON reason — rather than "connection refused" for the seconds
// (or, for a download, minutes) the load takes. When the model is ready the gate opens and every
// request from then on, on new and already-open connections, goes to the real handler.
#include <memory>
#include <mutex>

#include "server/http_types.h"

namespace tgi::server {

class StartupGate {
 public:
  // What the HTTP server runs from the start. Until open(): every route answers 503
  // {"error":"Model is loading","error_type":"loading"} (GET /health included, so health checks
  // keep waiting); after: `ready` handles the request. Thread-safe.
  RequestHandler handler();

  // Routes every later request to `ready`. Call once.
  void open(RequestHandler ready);

 private:
  std::mutex mutex_;
  std::shared_ptr<const RequestHandler> ready_;
};

}  // namespace tgi::server
