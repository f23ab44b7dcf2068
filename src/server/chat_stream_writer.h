#pragma once
// One chat generation, written out in one API's shape. The chat pipeline (openai_routes.cpp) runs
// the model and parses its output into chat::OutputDelta's; a writer turns them into the bytes of
// OpenAI chat chunks, OpenAI Responses events or Anthropic Messages events, so the three APIs share
// one pipeline and differ only here.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chat/output/assistant_output.h"
#include "engine/token_event.h"

namespace tgi::server {

struct ChatUsage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_prompt_tokens = 0;
};

// How a finished chat generation ended, with everything it said.
struct ChatOutcome {
  chat::AssistantOutput output;
  engine::FinishReason finish_reason = engine::FinishReason::kLength;
  std::optional<std::string> stop_sequence;  // the client's stop string that ended it, if one did
  ChatUsage usage;
  // The generated tokens with their alternatives, kept only when the client asked for logprobs.
  std::vector<engine::TokenInfo> tokens;
  std::vector<std::vector<engine::TokenInfo>> top_tokens;
  // OpenAI's name: "tool_calls" when the output holds calls, else "stop" / "length".
  const char* openai_finish_reason() const;
};

// Streaming: begin() once, delta() per parsed delta, then end() or error(); each returns the bytes
// to send (whole SSE events, possibly none). Not thread-safe; one per request.
class ChatStreamWriter {
 public:
  virtual ~ChatStreamWriter() = default;
  virtual std::string begin() = 0;
  virtual std::string delta(const chat::OutputDelta& delta) = 0;
  virtual std::string end(const ChatOutcome& outcome) = 0;
  virtual std::string error(const std::string& message) = 0;
};

// A fresh id for a tool call: prefix + 24 random alphanumerics ("call_", "toolu_", "fc_", ...).
std::string random_id(const std::string& prefix);

}  // namespace tgi::server
