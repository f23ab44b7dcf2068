// libFuzzer harness for the chat output parsers (chat/output/): model output is whatever a model
// generates, so every parser must take any bytes, split anywhere, without crashing, without
// holding text forever, and with the same answer however the text was split.
// Input: byte 0 picks a model family (a template fragment holding its markers), byte 1 the options
// and the chunk size; the rest is the generated text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/output/output_format.h"
#include "chat/output/output_parser.h"

namespace {

using tgi::chat::AssistantOutput;
using tgi::chat::OutputDelta;

// Enough of each family's template for detect_output_format to pick it.
constexpr const char* kTemplates[] = {
    "<tool_call>\n{\"name\": ...}\n</tool_call> <think></think>",
    "<tool_call><function=f><parameter=x></parameter></function></tool_call>",
    "<tool_call>f<arg_key>k</arg_key><arg_value>v</arg_value></tool_call>",
    "<minimax:tool_call><invoke name=\"f\"><parameter name=\"k\">v</parameter></invoke></minimax:tool_call>",
    "<|start_header_id|> <|python_tag|> \"parameters\": ",
    "<|python_start|> [f(a=1)] <|python_end|>",
    "[TOOL_CALLS][{\"name\": ...}]",
    "[TOOL_CALLS]f[ARGS]{} [THINK][/THINK]",
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{}\n```<｜tool▁call▁end｜>",
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{}<｜tool▁call▁end｜>",
    "<|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}<|tool_call_"
    "end|>",
    "<|channel|>analysis<|message|> <|start|>assistant <|call|> <|return|> <|end|>",
    "<|tool_call|>[{\"name\": ...}]",
    "<|START_ACTION|>[]<|END_ACTION|> <|START_THINKING|><|END_THINKING|> <|START_RESPONSE|>",
    "Action: ```json tool_name",
    "functools[{}]",
    "<TOOLCALL>[]</TOOLCALL>",
    ">>>all <function=f>{}</function>",
    "```tool_code\nf()\n```",
    "<|tool_call>call:f{a:1}<tool_call|>",
    "plain template",
};
constexpr size_t kFamilies = sizeof(kTemplates) / sizeof(kTemplates[0]);

AssistantOutput run(const tgi::chat::OutputFormat& format, const tgi::chat::OutputParserOptions& options,
                    std::string_view text, size_t chunk) {
  auto parser = tgi::chat::make_output_parser(format, options);
  std::vector<OutputDelta> deltas;
  for (size_t at = 0; at < text.size(); at += chunk) parser->feed(text.substr(at, chunk), deltas);
  parser->finish(deltas);
  return tgi::chat::accumulate_deltas(deltas);
}

bool same(const AssistantOutput& a, const AssistantOutput& b) {
  if (a.content != b.content || a.reasoning != b.reasoning || a.tool_calls.size() != b.tool_calls.size())
    return false;
  for (size_t i = 0; i < a.tool_calls.size(); ++i)
    if (a.tool_calls[i].name != b.tool_calls[i].name ||
        a.tool_calls[i].arguments != b.tool_calls[i].arguments)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 4096) return 0;
  const auto format = tgi::chat::detect_output_format(kTemplates[data[0] % kFamilies],
                                                      [](std::string_view) { return false; });
  tgi::chat::OutputParserOptions options;
  options.parse_tool_calls = (data[1] & 1) != 0;
  options.separate_reasoning = (data[1] & 2) != 0;
  options.starts_in_reasoning = (data[1] & 4) != 0;
  const size_t chunk = 1 + (data[1] >> 3);
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  const AssistantOutput whole = run(format, options, text, text.empty() ? 1 : text.size());
  const AssistantOutput split = run(format, options, text, chunk);
  if (!same(whole, split)) __builtin_trap();  // a split must never change the answer
  return 0;
}
