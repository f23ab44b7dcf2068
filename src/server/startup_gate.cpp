#include "server/startup_gate.h"

#include <utility>

namespace tgi::server {

RequestHandler StartupGate::handler() {
  return [this](HttpRequest request, std::shared_ptr<ResponseChannel> channel) {
    std::shared_ptr<const RequestHandler> ready;
    {
      std::lock_guard lock(mutex_);
      ready = ready_;
    }
    if (ready) return (*ready)(std::move(request), std::move(channel));
    channel->send(HttpResponse{503,
                               {{"content-type", "application/json"}, {"retry-after", "1"}},
                               R"({"error":"Model is loading","error_type":"loading"})"});
  };
}

void StartupGate::open(RequestHandler ready) {
  auto handler = std::make_shared<const RequestHandler>(std::move(ready));
  std::lock_guard lock(mutex_);
  ready_ = std::move(handler);
}

}  // namespace tgi::server
