#pragma once
// Anthropic's Messages API (POST /v1/messages, POST /v1/messages/count_tokens) as a translation
// layer over the OpenAI chat pipeline: a Messages request becomes a chat-completions body that
// parse_chat_request accepts, and a chat generation is written back as a Message object or as
// Anthropic's SSE events, so Anthropic's official clients work against the server unchanged.
// Nothing here touches the engine; the routes own the pipeline.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "server/chat_stream_writer.h"

namespace tgi::server {

// A Messages request body → the equivalent OpenAI chat-completions body. Every malformed piece is an
// Error{kInvalidArgument} whose message starts with the path of the offending field
// ("messages[1].content[0].type: ..."); unsupported inputs (images, documents, server tools) are
// errors too, never silently dropped. Thinking blocks in the history are dropped because our
// models cannot verify their signatures. Never throws.
Result<nlohmann::ordered_json> anthropic_to_chat_body(const nlohmann::ordered_json& body);

// The same translation for count_tokens, whose requests have no max_tokens.
Result<nlohmann::ordered_json> anthropic_count_tokens_body(const nlohmann::ordered_json& body);
std::string anthropic_count_tokens_json(int64_t input_tokens);  // {"input_tokens":N}

// {"type":"error","error":{"type":<type>,"message":<message>}}
std::string anthropic_error_body(const std::string& type, const std::string& message);
// Anthropic's error type for an HTTP status ("invalid_request_error", "overloaded_error", ...).
const char* anthropic_error_type(int http_status);

// The non-streaming response: a Message object.
std::string anthropic_message_json(const std::string& model, const ChatOutcome& outcome);

// Anthropic's SSE stream: "event: <type>\ndata: <json>\n\n" frames. begin() gives message_start and
// a ping; each change of delta kind closes the open content block and opens the next, so block
// indices run 0, 1, 2, ... in output order; end() closes the last block and gives message_delta and
// message_stop; error() gives an `error` event.
class AnthropicStreamWriter : public ChatStreamWriter {
 public:
  AnthropicStreamWriter(std::string model, int64_t prompt_tokens);

  std::string begin() override;
  std::string delta(const chat::OutputDelta& delta) override;
  std::string end(const ChatOutcome& outcome) override;
  std::string error(const std::string& message) override;

 private:
  enum class BlockKind { kNone, kThinking, kText, kToolUse };

  std::string open_block(BlockKind kind, const std::string& tool_name);
  std::string close_open_block();

  std::string model_;
  int64_t prompt_tokens_ = 0;
  std::string message_id_;
  BlockKind open_kind_ = BlockKind::kNone;
  int64_t open_index_ = -1;  // the open block's index; -1 before the first block
  int64_t next_index_ = 0;
  // Content-block index of each tool call, by tool_index, for its argument fragments.
  std::map<size_t, int64_t> tool_block_index_;
  bool finished_ = false;
};

}  // namespace tgi::server
