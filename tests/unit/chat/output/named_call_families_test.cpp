// Families that write the function name in plain text followed by JSON arguments: DeepSeek V3 and
// V3.1 / R1, Kimi-K2, Mistral (Small 3.2, Devstral, Ministral 3, Magistral), functionary v3.1/v3.2.
#include "output_test_util.h"

namespace tgi::chat {
namespace {

using namespace output_testing;

TEST(DeepSeekOutput, V3FencedCallsAfterReasoning) {
  auto format = format_of("llama-cpp-deepseek-r1.jinja");
  EXPECT_EQ(format.name, "deepseek_v3");
  EXPECT_EQ(format_of("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja").name, "deepseek_v3");
  OutputParserOptions opts;
  opts.starts_in_reasoning = true;
  auto out = parse_everywhere(
      format,
      "Need weather.\n</think>\n\nChecking.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"
      "<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Tokyo\"}\n```<｜tool▁call▁end｜>\n"
      "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜>"
      "<｜tool▁calls▁end｜>",
      opts);
  EXPECT_EQ(out.reasoning, "Need weather.");
  EXPECT_EQ(out.content, "Checking.");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 0, "get_weather", R"({"city":"Tokyo"})");
  expect_call(out, 1, "get_time", "{}");
}

TEST(DeepSeekOutput, V31NameBeforeSeparator) {
  auto format = format_of("variants/deepseek-ai-DeepSeek-V3.1.jinja");
  EXPECT_EQ(format.name, "deepseek_v3_1");
  auto out = parse_everywhere(format,
                              "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>search<｜tool▁sep｜>{\"q\": \"ü\"}"
                              "<｜tool▁call▁end｜><｜tool▁calls▁end｜>");
  expect_call(out, 0, "search", R"({"q":"ü"})");
  EXPECT_EQ(out.content, "");
  out = parse_everywhere(format, "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>broken");
  EXPECT_TRUE(out.tool_calls.empty());
  EXPECT_EQ(out.content, "<｜tool▁call▁begin｜>broken");
}

TEST(KimiOutput, SectionWithTwoCalls) {
  auto format = format_of("Kimi-K2-Instruct.jinja");
  EXPECT_EQ(format.name, "kimi_k2");
  EXPECT_EQ(format_of("variants/Kimi-K2-Thinking.jinja").reasoning_open, "<think>");
  auto out =
      parse_everywhere(format,
                       "Let me look.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0"
                       "<|tool_call_argument_begin|>{\"city\": \"Beijing\"}<|tool_call_end|>"
                       "<|tool_call_begin|>functions.web.search:1<|tool_call_argument_begin|>{\"q\": 1}"
                       "<|tool_call_end|><|tool_calls_section_end|>");
  EXPECT_EQ(out.content, "Let me look.");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 0, "get_weather", R"({"city":"Beijing"})");
  expect_call(out, 1, "web.search", R"({"q":1})");
}

TEST(MistralOutput, NameArgsCallsWithCallIdAndThinking) {
  for (const char* name :
       {"Mistral-Small-3.2-24B-Instruct-2506.jinja", "unsloth-mistral-Devstral-Small-2507.jinja",
        "mistralai-Ministral-3-14B-Reasoning-2512.jinja"}) {
    EXPECT_EQ(format_of(name).name, "mistral") << name;
  }
  auto format = format_of("mistralai-Ministral-3-14B-Reasoning-2512.jinja");
  EXPECT_EQ(format.reasoning_open, "[THINK]");
  auto out =
      parse_everywhere(format,
                       "[THINK]Two calls.[/THINK]Sure.[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Lyon\"}"
                       "[TOOL_CALLS]get_time[CALL_ID]a1b2c3d4e[ARGS]{\"tz\": \"CET\"}");
  EXPECT_EQ(out.reasoning, "Two calls.");
  EXPECT_EQ(out.content, "Sure.");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 0, "get_weather", R"({"city":"Lyon"})");
  expect_call(out, 1, "get_time", R"({"tz":"CET"})");
  // Detected from the vocabulary when the template does not show tools.
  EXPECT_EQ(detect_from_template("mistralrs-mistral.from-json.jinja", {"[TOOL_CALLS]"}).name, "mistral");
}

TEST(FunctionaryOutput, V31FunctionTags) {
  auto format = format_of("meetkai-functionary-medium-v3.1.jinja");
  EXPECT_EQ(format.name, "functionary_v3_1");
  auto out = parse_everywhere(format, "Calling.<function=get_weather>{\"location\": \"SF\"}</function>");
  EXPECT_EQ(out.content, "Calling.");
  expect_call(out, 0, "get_weather", R"({"location":"SF"})");
}

TEST(FunctionaryOutput, V32Recipients) {
  auto format = format_of("meetkai-functionary-medium-v3.2.jinja");
  EXPECT_EQ(format.name, "functionary_v3_2");
  auto out =
      parse_everywhere(format, "all\nLet me check.>>>get_weather\n{\"location\": \"SF\"}>>>get_time\n{}");
  EXPECT_EQ(out.content, "Let me check.");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 0, "get_weather", R"({"location":"SF"})");
  out = parse_everywhere(format, "all\nJust text.");
  EXPECT_EQ(out.content, "Just text.");
  EXPECT_TRUE(out.tool_calls.empty());
}

}  // namespace
}  // namespace tgi::chat
