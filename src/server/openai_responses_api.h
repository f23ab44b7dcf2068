#pragma once
// OpenAI's Responses API (POST /v1/responses, create only) as a translation onto the chat pipeline:
// the request becomes a chat-completions body for parse_chat_request, and the chat outcome becomes
// a Response object or a stream of Responses events. Nothing is stored, so every feature that needs
// an earlier response (previous_response_id, conversation, item references, background) is refused.
// Shapes follow the openai-node SDK types (src/resources/responses/responses.ts), and the stream
// satisfies the SDK's response accumulator (what responses.stream(...).finalResponse() runs).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "server/chat_stream_writer.h"

namespace tgi::server {

// Translates a Responses create body into an OpenAI chat-completions body (model, messages, tools,
// tool_choice, parallel_tool_calls, max_tokens, temperature, top_p, stream, response_format,
// reasoning_effort). Errors are kInvalidArgument with a message that starts with the offending
// field's path ("input[2].content[0]: ..."); any JSON value gives a value or an error, never a throw.
Result<nlohmann::ordered_json> responses_to_chat_body(const nlohmann::ordered_json& body);

// What one Response object says about its request and identity, fixed before generation starts.
struct ResponsesContext {
  std::string id;  // "resp_..."
  std::string model;
  int64_t created_at = 0;  // unix seconds
  // The request settings a Response echoes (instructions, tools, tool_choice, temperature, top_p,
  // max_output_tokens, parallel_tool_calls, text, reasoning, metadata), defaults filled in; see
  // responses_request_echo. Missing keys fall back to the same defaults.
  nlohmann::ordered_json request_echo = nlohmann::ordered_json::object();
};

// The echoed request settings of a Response, from the create body (best after
// responses_to_chat_body accepted it; never throws either way).
nlohmann::ordered_json responses_request_echo(const nlohmann::ordered_json& body);

// A context for one request: a fresh "resp_" id and the body's echo.
ResponsesContext make_responses_context(const nlohmann::ordered_json& body, std::string model,
                                        int64_t created_at);

// One output item of a Response, in the order it was opened.
struct ResponsesOutputItem {
  enum class Kind { kReasoning, kMessage, kFunctionCall };
  Kind kind = Kind::kMessage;
  std::string id;       // "rs_...", "msg_...", "fc_..."
  std::string call_id;  // kFunctionCall: "call_...", what the client answers with function_call_output
  std::string name;     // kFunctionCall
  std::string text;     // reasoning text, message text, or the call's arguments JSON text
  std::string status = "completed";  // kMessage / kFunctionCall: "in_progress", "completed", "incomplete"
};

// The finished Response object: status "completed", or "incomplete" (incomplete_details
// {reason: "max_output_tokens"}, last item "incomplete") when the length limit ended generation.
nlohmann::ordered_json responses_object(const ResponsesContext& context, const ChatOutcome& outcome);
std::string responses_object_json(const ResponsesContext& context, const ChatOutcome& outcome);

// The Response as response.created / response.in_progress carry it: no output, no usage yet.
nlohmann::ordered_json responses_in_progress_object(const ResponsesContext& context);

// The output items a finished generation gives, with fresh ids: reasoning, message, function calls.
std::vector<ResponsesOutputItem> responses_output_items(const ChatOutcome& outcome);

// The JSON of an item as the finished Response and output_item.done carry it.
nlohmann::ordered_json responses_output_item_json(const ResponsesOutputItem& item);

// Streams one generation as Responses events ("event: <type>\ndata: <json>\n\n"), each with
// "type" and a "sequence_number" counting from 0: response.created, response.in_progress, then per
// output item output_item.added ... output_item.done, then response.completed (or
// response.incomplete) carrying the whole Response. An item closes when the next one opens.
class ResponsesStreamWriter : public ChatStreamWriter {
 public:
  explicit ResponsesStreamWriter(ResponsesContext context);

  std::string begin() override;
  std::string delta(const chat::OutputDelta& delta) override;
  // Also streams whatever the outcome holds beyond what the deltas said (a suffix of reasoning,
  // content or arguments, calls never started), so a pipeline that parses tool calls only at the
  // end still streams them; a call's final arguments are the outcome's.
  std::string end(const ChatOutcome& outcome) override;
  // An `error` event; the writer says nothing after it.
  std::string error(const std::string& message) override;

 private:
  std::string event(const char* type, nlohmann::ordered_json fields);
  std::string open_item(ResponsesOutputItem::Kind kind, const std::string& name);
  std::string close_open_item(const std::string& status);
  std::string append_text(ResponsesOutputItem::Kind kind, const std::string& text);
  std::string start_call(size_t tool_index, const std::string& name);
  std::string append_arguments(size_t tool_index, const std::string& fragment);
  std::string streamed_text(ResponsesOutputItem::Kind kind) const;

  ResponsesContext context_;
  std::vector<ResponsesOutputItem> items_;
  std::optional<size_t> open_item_;  // index into items_ of the item still taking deltas
  std::vector<size_t> call_items_;   // tool_index → index into items_
  int64_t sequence_number_ = 0;
  bool begun_ = false;
  bool finished_ = false;  // after end() or error(): nothing more is said
};

}  // namespace tgi::server
