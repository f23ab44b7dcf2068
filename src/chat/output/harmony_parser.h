#pragma once
// gpt-oss "harmony" output: a sequence of messages, each a header up to <|message|> naming its
// channel (and, for tool calls, a recipient "to=functions.NAME"), then a body up to <|end|>,
// <|call|> or <|return|>. analysis is reasoning, final (and commentary to nobody) is content,
// a message to a recipient is a tool call whose body is the JSON arguments.
#include <string>
#include <string_view>
#include <vector>

#include "chat/output/assistant_output.h"
#include "chat/output/text_emitter.h"

namespace tgi::chat {

class HarmonyParser : public OutputParser {
 public:
  HarmonyParser(bool parse_tool_calls, bool separate_reasoning);
  void feed(std::string_view text, std::vector<OutputDelta>& out) override;
  void finish(std::vector<OutputDelta>& out) override;

 private:
  enum class Target { kContent, kReasoning, kToolCall };
  void process(bool at_end, std::vector<OutputDelta>& out);
  bool process_header(bool at_end, std::vector<OutputDelta>& out);
  bool process_body(bool at_end, std::vector<OutputDelta>& out);
  void start_message(std::string_view header, std::vector<OutputDelta>& out);
  void emit_body(std::string_view text, std::vector<OutputDelta>& out);

  bool parse_tool_calls_;
  bool separate_reasoning_;
  bool in_header_ = true;
  Target target_ = Target::kContent;
  std::string pending_;
  TrimmedTextEmitter content_{OutputDelta::Kind::kContent, /*trim_edges=*/true};
  TrimmedTextEmitter reasoning_{OutputDelta::Kind::kReasoning, /*trim_edges=*/true};
  size_t next_tool_index_ = 0;
};

}  // namespace tgi::chat
