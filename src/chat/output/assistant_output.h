#pragma once
// The contract between a model's raw output text and the chat APIs: what an assistant turn said,
// split into reasoning, content and tool calls, either all at once or as a stream of deltas.
// The parser for a model is chosen once from its chat template and vocabulary (output_format.h);
// the server turns deltas into OpenAI chunks, Responses events or Anthropic events.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tgi::chat {

struct ParsedToolCall {
  std::string name;
  std::string arguments;  // a JSON object as text (compact when it parsed; "{}" when none was given)
};

struct AssistantOutput {
  std::string reasoning;  // thinking, without its markers
  std::string content;    // the answer, without any tool-call or channel markers
  std::vector<ParsedToolCall> tool_calls;
};

// One step of a streamed answer. Concatenating a kind's texts in order gives the AssistantOutput
// field: content, reasoning, or (per tool_index) the call's arguments. kToolCallStart comes once
// per call, before any of its argument fragments, with the name in `text`.
struct OutputDelta {
  enum class Kind { kContent, kReasoning, kToolCallStart, kToolCallArguments };
  Kind kind = Kind::kContent;
  size_t tool_index = 0;  // kToolCallStart / kToolCallArguments: 0, 1, ... in call order
  std::string text;
};

// Consumes the generated text (special tokens included, as the vocabulary spells them) piece by
// piece. It holds back only text that may still turn out to be part of a marker, so content
// streams with at most a marker's length of delay, and markers never reach content.
class OutputParser {
 public:
  virtual ~OutputParser() = default;
  virtual void feed(std::string_view text, std::vector<OutputDelta>& out) = 0;
  // The generation ended: flush what was held back (an unfinished marker is content).
  virtual void finish(std::vector<OutputDelta>& out) = 0;
};

}  // namespace tgi::chat
