#pragma once
// OpenAI chat completions in our shape: the non-streaming message and the streamed chunks of one
// choice (TGI's framing: every chunk names the assistant role; the last carries the finish reason).
#include <string>
#include <vector>

#include "server/chat_stream_writer.h"
#include "server/responses.h"

namespace tgi::server {

// {"role":"assistant","content":...,"reasoning_content"?:...,"tool_calls"?:[...]} with fresh call ids.
OutJson openai_chat_message(const chat::AssistantOutput& output);

class OpenAiChatStreamWriter : public ChatStreamWriter {
 public:
  OpenAiChatStreamWriter(OpenAiIdentity id, int64_t choice_index)
      : id_(std::move(id)), index_(choice_index) {}

  std::string begin() override { return ""; }
  std::string delta(const chat::OutputDelta& delta) override;
  // The choice's last chunk (finish reason); the usage chunk and [DONE] follow all choices.
  std::string end(const ChatOutcome& outcome) override;
  std::string error(const std::string& message) override;

  // Logprobs go out with content chunks only when the client asked for them.
  void request_logprobs() { logprobs_requested_ = true; }
  // Text the last chunk carries with the finish reason (TGI sends the final token's text there).
  void set_final_content(std::string text) { final_content_ = std::move(text); }
  // Token logprobs to send with the next content chunk (they ride on content, as OpenAI's do).
  void add_logprob(OutJson logprob) { pending_logprobs_.push_back(std::move(logprob)); }

 private:
  OutJson take_logprobs();

  OpenAiIdentity id_;
  int64_t index_ = 0;
  bool logprobs_requested_ = false;
  std::vector<OutJson> pending_logprobs_;
  std::vector<std::string> call_ids_;
  std::string final_content_;
};

}  // namespace tgi::server
