#pragma once
// Builds the streaming parser for a model's output format, and parses a whole output at once.
#include <memory>
#include <string_view>

#include "chat/output/assistant_output.h"
#include "chat/output/output_format.h"

namespace tgi::chat {

struct OutputParserOptions {
  bool parse_tool_calls = true;      // tools were offered; when false, tool markers are content
  bool separate_reasoning = true;    // when false, thinking is content, its markers as generated
  bool starts_in_reasoning = false;  // the prompt opened the thinking (prompt_opens_reasoning)
};

std::unique_ptr<OutputParser> make_output_parser(const OutputFormat& format,
                                                 const OutputParserOptions& options);

// Feeds all of `text`, finishes, and gathers the deltas. Arguments that parse as JSON are
// re-dumped compact; a call without arguments gets "{}".
AssistantOutput parse_assistant_output(OutputParser& parser, std::string_view text);

// Gathers deltas already produced (parse_assistant_output's second half, for streaming callers).
AssistantOutput accumulate_deltas(const std::vector<OutputDelta>& deltas);

}  // namespace tgi::chat
