#pragma once
// One chat pipeline under three APIs. OpenAI chat completions, OpenAI Responses and Anthropic
// Messages all become a ChatRequest; the pipeline renders it, runs n generations, reads each with
// the model's output parser, and hands the results to the API's flavor to write out.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/api_error.h"
#include "server/backend.h"
#include "server/chat_request.h"
#include "server/chat_stream_writer.h"
#include "server/http_types.h"

namespace tgi::server {

struct ChatApiFlavor {
  // Whole (non-streaming) response body for the finished choices, in choice order.
  std::function<std::string(const std::vector<ChatOutcome>& choices, const ChatUsage& total)> response_body;
  // A writer for one choice's stream, once the prompt length is known.
  std::function<std::unique_ptr<ChatStreamWriter>(int64_t choice_index, int64_t prompt_tokens)> make_writer;
  // Bytes after every choice has ended (OpenAI: the usage chunk and [DONE]); may be empty.
  std::function<std::string(const ChatUsage& total, bool failed)> stream_tail;
  // A request that fails before it streams: the API's error response (status and body).
  std::function<HttpResponse(int status, const std::string& message, const std::string& type)> error_response;
  // A body whose shape does not fit the request type (OpenAI: TGI's 422 text).
  std::function<HttpResponse(const std::string& message)> shape_error_response;
  bool allow_n = false;          // whether `n` > 1 is part of this API
};

// A chat request's prompt, rendered by the model's template (tools, kwargs and a continued final
// message applied), or the error to answer with.
struct RenderedChat {
  ChatPromptPlan plan;
  std::string prompt;
  std::optional<ApiError> error;
};
RenderedChat render_chat_request(const ChatRequest& request, const Backend& backend);

}  // namespace tgi::server
