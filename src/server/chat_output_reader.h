#pragma once
// Reads one chat generation's tokens as the model meant them: special tokens that are markers of
// the model's syntax (<|channel|>, [TOOL_CALLS], ...) kept, other special tokens and the final
// end-of-sequence token dropped, and the text run through the model's output parser. What comes out
// is the deltas a stream sends and the AssistantOutput a response holds, from the same code.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/output/assistant_output.h"
#include "chat/output/output_format.h"
#include "engine/token_event.h"
#include "server/backend.h"

namespace tgi::server {

struct ChatReadOptions {
  bool parse_tool_calls = false;    // tools were offered
  bool native_tools = true;         // false: TGI's injected prompt, answered in its JSON shape
  bool separate_reasoning = true;   // false: thinking stays in content, markers and all
  bool parallel_tool_calls = true;  // false: calls after the first are dropped
};

class ChatOutputReader {
 public:
  ChatOutputReader(const ChatTraits& traits, const std::string& rendered_prompt,
                   const ChatReadOptions& options);

  // One generated token; `deltas` gets what it completed (adjacent deltas of a kind merged).
  void push(const engine::TokenInfo& token, std::vector<chat::OutputDelta>& deltas);
  // The generation ended; `last` is its final token when it was held back (it is dropped when it
  // is the end-of-sequence token that stopped the generation).
  void finish(const engine::TokenInfo* last, engine::FinishReason reason,
              std::vector<chat::OutputDelta>& deltas);

  // Everything read so far; after finish(), complete (call arguments compact JSON).
  const chat::AssistantOutput& output() const { return output_; }

  // Reads a whole finished generation at once (non-streaming).
  static chat::AssistantOutput read_all(const ChatTraits& traits, const std::string& rendered_prompt,
                                        const ChatReadOptions& options,
                                        const std::vector<engine::TokenInfo>& tokens,
                                        engine::FinishReason reason);

 private:
  void deliver(std::vector<chat::OutputDelta>& raw, std::vector<chat::OutputDelta>& deltas);
  std::string no_tool_answer() const;

  ChatReadOptions options_;
  chat::OutputFormat format_;
  std::unique_ptr<chat::OutputParser> parser_;
  chat::AssistantOutput output_;
  std::map<size_t, size_t> call_index_;  // parser's call index → ours (dropped calls have none)
  std::optional<size_t> no_tool_index_;  // the parser's index of a `no_tool` call being read
  std::string no_tool_arguments_;
};

}  // namespace tgi::server
