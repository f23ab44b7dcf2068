// Anthropic's Messages API routes: /v1/messages over the chat pipeline and
// /v1/messages/count_tokens over the chat template and tokenizer (anthropic_messages.h).
#include "server/anthropic_messages.h"
#include "server/api.h"
#include "server/chat_pipeline.h"

namespace tgi::server {

namespace {

// Anthropic answers malformed requests 400 where TGI says 422.
int anthropic_status(int status) {
  return status == 422 ? 400 : status;
}

HttpResponse anthropic_error(int status, const std::string& message) {
  const int out = anthropic_status(status);
  return HttpResponse{
      out, {{"content-type", "application/json"}}, anthropic_error_body(anthropic_error_type(out), message)};
}

}  // namespace

void Api::anthropic_messages(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  auto chat_body = anthropic_to_chat_body(*body);
  if (!chat_body.ok()) return channel->send(anthropic_error(400, chat_body.error().message));
  const std::string model = request_model_name(*body);
  ChatApiFlavor flavor;
  flavor.response_body = [model](const std::vector<ChatOutcome>& outcomes, const ChatUsage&) {
    return anthropic_message_json(model, outcomes.front());
  };
  flavor.make_writer = [model](int64_t, int64_t prompt_tokens) -> std::unique_ptr<ChatStreamWriter> {
    return std::make_unique<AnthropicStreamWriter>(model, prompt_tokens);
  };
  flavor.stream_tail = [](const ChatUsage&, bool) { return std::string(); };
  flavor.error_response = [](int status, const std::string& message, const std::string&) {
    return anthropic_error(status, message);
  };
  flavor.shape_error_response = [](const std::string& message) { return anthropic_error(400, message); };
  run_chat(request, *chat_body, channel, flavor);
}

void Api::anthropic_count_tokens(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  auto chat_body = anthropic_count_tokens_body(*body);
  if (!chat_body.ok()) return channel->send(anthropic_error(400, chat_body.error().message));
  auto parsed = parse_chat_request(*chat_body);
  if (!parsed.ok()) return channel->send(anthropic_error(400, parsed.error().message));
  auto backend_now = backend();
  if (!backend_now) return channel->send(anthropic_error(503, "the model is still loading"));
  RenderedChat rendered = render_chat_request(*parsed, *backend_now);
  if (rendered.error) return channel->send(anthropic_error(rendered.error->status, rendered.error->message));
  auto encoding = backend_now->tokenize(rendered.prompt, false);
  if (!encoding.ok())
    return channel->send(anthropic_error(400, "tokenizer error " + encoding.error().message));
  channel->send(HttpResponse{200,
                             {{"content-type", "application/json"}},
                             anthropic_count_tokens_json(static_cast<int64_t>(encoding->ids.size()))});
}

}  // namespace tgi::server
