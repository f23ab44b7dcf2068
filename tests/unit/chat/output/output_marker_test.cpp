// Which generated special tokens are markers of a model's output syntax (and so reach its parser).
#include <gtest/gtest.h>

#include "chat/output/output_format.h"

namespace tgi::chat {
namespace {

OutputFormat format_for(const char* template_source) {
  return detect_output_format(template_source, [](std::string_view) { return false; });
}

TEST(OutputMarker, MarkersOfTheDetectedFamilyOnly) {
  const OutputFormat hermes = format_for("<tool_call>\n{\"name\": ...}\n</tool_call> <think></think>");
  EXPECT_TRUE(is_output_marker(hermes, "<tool_call>"));
  EXPECT_TRUE(is_output_marker(hermes, "</tool_call>"));
  EXPECT_TRUE(is_output_marker(hermes, "<think>"));
  EXPECT_FALSE(is_output_marker(hermes, "<|im_start|>"));
  EXPECT_FALSE(is_output_marker(hermes, "<|endoftext|>"));
  EXPECT_FALSE(is_output_marker(hermes, ""));

  const OutputFormat harmony = format_for("<|channel|>analysis<|message|> <|start|>assistant <|call|>");
  for (const char* token :
       {"<|channel|>", "<|message|>", "<|start|>", "<|end|>", "<|call|>", "<|return|>", "<|constrain|>"})
    EXPECT_TRUE(is_output_marker(harmony, token)) << token;
  EXPECT_FALSE(is_output_marker(harmony, "<|endoftext|>"));

  // A marker made of several special tokens: each piece is a marker (DeepSeek's separator).
  const OutputFormat deepseek = format_for(
      "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>f\n```json\n{}\n```<"
      "｜tool▁call▁end｜>");
  EXPECT_TRUE(is_output_marker(deepseek, "<｜tool▁sep｜>"));
  EXPECT_TRUE(is_output_marker(deepseek, "<｜tool▁calls▁begin｜>"));
  EXPECT_FALSE(is_output_marker(deepseek, "<｜end▁of▁sentence｜>"));

  const OutputFormat mistral = format_for("[TOOL_CALLS]f[ARGS]{} [THINK][/THINK]");
  for (const char* token : {"[TOOL_CALLS]", "[ARGS]", "[THINK]", "[/THINK]"})
    EXPECT_TRUE(is_output_marker(mistral, token)) << token;
  EXPECT_FALSE(is_output_marker(mistral, "</s>"));
}

}  // namespace
}  // namespace tgi::chat
