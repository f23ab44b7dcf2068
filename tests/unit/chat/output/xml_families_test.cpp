// XML-parameter families: Qwen3-Coder / Qwen3.5 / Nemotron 3, Seed-OSS, GLM-4.5+, MiniMax-M2,
// DeepSeek V3.2 / V4 (DSML).
#include "output_test_util.h"

namespace tgi::chat {
namespace {

using namespace output_testing;

TEST(Qwen3CoderOutput, ParametersBecomeJsonValues) {
  for (const char* name : {"Qwen3-Coder.jinja", "Qwen-Qwen3-Coder-30B-A3B-Instruct.jinja", "Qwen3.5-4B.jinja",
                           "NVIDIA-Nemotron-3-Nano-30B-A3B-BF16.jinja"}) {
    EXPECT_EQ(format_of(name).name, "qwen3_coder") << name;
  }
  auto format = format_of("Qwen3.5-4B.jinja");
  auto out =
      parse_everywhere(format,
                       "I'll run it.\n\n<tool_call>\n<function=run>\n<parameter=cmd>\nls -la\n</parameter>\n"
                       "<parameter=timeout>\n30\n</parameter>\n<parameter=opts>\n{\"a\": [1]}\n</parameter>\n"
                       "</function>\n</tool_call>\n<tool_call>\n<function=noop>\n</function>\n</tool_call>");
  EXPECT_EQ(out.content, "I'll run it.");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 0, "run", R"({"cmd":"ls -la","timeout":30,"opts":{"a":[1]}})");
  expect_call(out, 1, "noop", "{}");
}

TEST(Qwen3CoderOutput, UnclosedCallKeepsCompletedParameters) {
  auto out = parse_everywhere(
      format_of("Qwen3-Coder.jinja"),
      "<tool_call>\n<function=f>\n<parameter=a>\n1\n</parameter>\n<parameter=b>\nunfinished");
  ASSERT_EQ(out.tool_calls.size(), 1u);
  expect_call(out, 0, "f", R"({"a":1})");
}

TEST(SeedOssOutput, SeedTags) {
  auto format = format_of("variants/ByteDance-Seed-OSS.jinja");
  EXPECT_EQ(format.name, "seed_oss");
  EXPECT_EQ(format.reasoning_open, "<seed:think>");
  auto out = parse_everywhere(format,
                              "<seed:think>plan</seed:think><seed:tool_call>\n<function=f>\n<parameter=x>"
                              "hi</parameter>\n</function>\n</seed:tool_call>");
  EXPECT_EQ(out.reasoning, "plan");
  expect_call(out, 0, "f", R"({"x":"hi"})");
}

TEST(GlmOutput, ArgKeyValuePairs) {
  EXPECT_EQ(format_of("variants/GLM-4.6.jinja").name, "glm45");
  auto format = format_of("GLM-4.7-Flash.jinja");
  EXPECT_EQ(format.name, "glm45");
  auto out = parse_everywhere(format,
                              "<think>weather</think>Checking.<tool_call>get_weather<arg_key>city</arg_key>"
                              "<arg_value>Beijing</arg_value><arg_key>days</arg_key><arg_value>3</arg_value>"
                              "</tool_call><tool_call>ping</tool_call>");
  EXPECT_EQ(out.reasoning, "weather");
  EXPECT_EQ(out.content, "Checking.");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 0, "get_weather", R"({"city":"Beijing","days":3})");
  expect_call(out, 1, "ping", "{}");
  out = parse_everywhere(format_of("variants/GLM-4.6.jinja"),
                         "<tool_call>f\n<arg_key>a</arg_key>\n<arg_value>x y</arg_value>\n</tool_call>");
  expect_call(out, 0, "f", R"({"a":"x y"})");
}

TEST(MiniMaxOutput, InvokeBlocks) {
  auto format = format_of("MiniMax-M2.jinja");
  EXPECT_EQ(format.name, "minimax_m2");
  OutputParserOptions opts;
  opts.starts_in_reasoning = prompt_opens_reasoning(format, "]~b]ai\n<think>\n");
  EXPECT_TRUE(opts.starts_in_reasoning);
  auto out = parse_everywhere(format,
                              "Two lookups.\n</think>\n\n<minimax:tool_call>\n<invoke name=\"a\">\n"
                              "<parameter name=\"q\">x</parameter>\n</invoke>\n<invoke name=\"b\">\n"
                              "<parameter name=\"n\">2</parameter>\n</invoke>\n</minimax:tool_call>",
                              opts);
  EXPECT_EQ(out.reasoning, "Two lookups.");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 0, "a", R"({"q":"x"})");
  expect_call(out, 1, "b", R"({"n":2})");
}

TEST(DsmlOutput, DeepSeekV32AndV4) {
  auto v32 = format_of("deepseek-ai-DeepSeek-V3.2.jinja");
  auto v4 = format_of("deepseek-ai-DeepSeek-V4.jinja");
  EXPECT_EQ(v32.name, "deepseek_v3_2");
  EXPECT_EQ(v4.name, "deepseek_v4");
  auto out = parse_everywhere(
      v32,
      "Ok.\n\n<｜DSML｜function_calls>\n<｜DSML｜invoke name=\"f\">\n<｜DSML｜parameter "
      "name=\"s\" string=\"true\">42</｜DSML｜parameter>\n<｜DSML｜parameter name=\"n\" "
      "string=\"false\">42</｜DSML｜parameter>\n</｜DSML｜invoke>\n</｜DSML｜function_calls>");
  EXPECT_EQ(out.content, "Ok.");
  expect_call(out, 0, "f", R"({"s":"42","n":42})");
  out = parse_everywhere(
      v4, "<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"g\">\n</｜DSML｜invoke>\n</｜DSML｜tool_calls>");
  expect_call(out, 0, "g", "{}");
}

}  // namespace
}  // namespace tgi::chat
