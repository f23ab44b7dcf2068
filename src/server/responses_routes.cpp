// OpenAI's Responses API route: /v1/responses (create, stateless) over the chat pipeline
// (openai_responses_api.h).
#include "server/api.h"
#include "server/chat_pipeline.h"
#include "server/openai_responses_api.h"
#include "server/responses.h"

namespace tgi::server {

namespace {

// OpenAI's error shape, which its SDK reads `message` from.
HttpResponse openai_error(int status, const std::string& message, const std::string& type) {
  nlohmann::ordered_json error;
  error["message"] = message;
  error["type"] = type;
  error["param"] = nullptr;
  error["code"] = nullptr;
  nlohmann::ordered_json body;
  body["error"] = std::move(error);
  return HttpResponse{status, {{"content-type", "application/json"}}, body.dump()};
}

}  // namespace

void Api::openai_responses(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  auto chat_body = responses_to_chat_body(*body);
  if (!chat_body.ok())
    return channel->send(openai_error(400, chat_body.error().message, "invalid_request_error"));
  const ResponsesContext context =
      make_responses_context(*body, request_model_name(*body), unix_seconds_now());
  ChatApiFlavor flavor;
  flavor.response_body = [context](const std::vector<ChatOutcome>& outcomes, const ChatUsage&) {
    return responses_object_json(context, outcomes.front());
  };
  flavor.make_writer = [context](int64_t, int64_t) -> std::unique_ptr<ChatStreamWriter> {
    return std::make_unique<ResponsesStreamWriter>(context);
  };
  flavor.stream_tail = [](const ChatUsage&, bool) { return std::string(); };
  flavor.error_response = [](int status, const std::string& message, const std::string& type) {
    return openai_error(status == 422 ? 400 : status, message, type);
  };
  flavor.shape_error_response = [](const std::string& message) {
    return openai_error(400, message, "invalid_request_error");
  };
  run_chat(request, *chat_body, channel, flavor);
}

}  // namespace tgi::server
