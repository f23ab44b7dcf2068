// llama.cpp's text utility routes, which its clients and UIs call: /detokenize and /apply-template.
#include "server/api.h"
#include "server/chat_pipeline.h"
#include "server/json_fields.h"
#include "server/responses.h"

namespace tgi::server {

void Api::detokenize(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  if (!body->is_object())
    return send_shape_error(*channel, shape_error("", "invalid type: " + describe_json_value(*body) +
                                                          ", expected struct DetokenizeRequest"));
  auto list = read_required<json>(*body, "", "tokens");
  if (!list.ok()) return send_shape_error(*channel, list.error());
  if (!list->is_array())
    return send_shape_error(*channel, shape_error("tokens", "invalid type: " + describe_json_value(*list) +
                                                                ", expected a sequence"));
  std::vector<int32_t> tokens;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& id = (*list)[i];
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      return send_shape_error(
          *channel, shape_error("tokens[" + std::to_string(i) + "]",
                                "invalid type: " + describe_json_value(id) + ", expected a token id"));
    tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
  }
  auto backend_now = backend();
  if (!backend_now) return send_error(*channel, ApiError::generation("the model is still loading"));
  auto text = backend_now->detokenize(tokens);
  if (!text.ok()) return send_error(*channel, ApiError::validation(text.error().message));
  OutJson out;
  out["content"] = *text;
  channel->send(HttpResponse{200, {{"content-type", "application/json"}}, dump(out)});
}

void Api::apply_template(HttpRequest request, Channel channel) {
  auto body = read_json_body(request, *channel);
  if (!body) return;
  auto parsed = parse_chat_request(*body);
  if (!parsed.ok()) return send_shape_error(*channel, parsed.error());
  auto backend_now = backend();
  if (!backend_now) return send_error(*channel, ApiError::generation("the model is still loading"));
  RenderedChat rendered = render_chat_request(*parsed, *backend_now);
  if (rendered.error) return send_error(*channel, *rendered.error);
  OutJson out;
  out["prompt"] = rendered.prompt;
  channel->send(HttpResponse{200, {{"content-type", "application/json"}}, dump(out)});
}

}  // namespace tgi::server
