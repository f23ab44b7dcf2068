// Pythonic calls (Llama 4, Gemma tool_code), Gemma 4 and gpt-oss harmony.
#include "output_test_util.h"

namespace tgi::chat {
namespace {

using namespace output_testing;

OutputFormat llama4() {
  return detect_output_format("", [](std::string_view t) { return t == "<|python_start|>"; });
}

TEST(PythonicOutput, BareListAndMarkers) {
  auto format = llama4();
  EXPECT_EQ(format.name, "llama4_pythonic");
  auto out = parse_everywhere(format,
                              "[get_weather(city=\"SF\", days=3), other(), f(x=[1, 'a'], y={'k': None}, "
                              "z=True, w=-1.5)]");
  ASSERT_EQ(out.tool_calls.size(), 3u);
  expect_call(out, 0, "get_weather", R"({"city":"SF","days":3})");
  expect_call(out, 1, "other", "{}");
  expect_call(out, 2, "f", R"({"x":[1,"a"],"y":{"k":null},"z":true,"w":-1.5})");
  EXPECT_EQ(out.content, "");
  out = parse_everywhere(format, "<|python_start|>[lookup(q='it''s')]<|python_end|>");
  EXPECT_EQ(out.tool_calls.size(), 0u);  // not Python: content
  out = parse_everywhere(format, "<|python_start|>[lookup(q='x (y)')]<|python_end|>");
  expect_call(out, 0, "lookup", R"J({"q":"x (y)"})J");
  out = parse_everywhere(format, "[see the docs]");
  EXPECT_EQ(out.content, "[see the docs]");
  out = parse_everywhere(format, "[{\"name\": \"a\", \"arguments\": {}}]");  // JSON list still works
  expect_call(out, 0, "a", "{}");
}

TEST(GemmaToolCodeOutput, FencedPythonicCall) {
  OutputFormat format = detect_output_format("Use ```tool_code\n...```", nullptr);
  EXPECT_EQ(format.name, "gemma_tool_code");
  auto out = parse_everywhere(format, "Let me see.\n```tool_code\nget_weather(city=\"Oslo\")\n```");
  EXPECT_EQ(out.content, "Let me see.");
  expect_call(out, 0, "get_weather", R"({"city":"Oslo"})");
}

TEST(Gemma4Output, CallSyntaxAndThoughtChannel) {
  auto format = format_of("google-gemma-4-31B-it.jinja");
  EXPECT_EQ(format.name, "gemma4");
  EXPECT_EQ(format.reasoning_open, "<|channel>thought");
  EXPECT_FALSE(prompt_opens_reasoning(format, "<|turn>model\n<|channel>thought\n<channel|>"));
  auto out =
      parse_everywhere(format,
                       "<|channel>thought\nNeed data.<channel|><|tool_call>call:get_weather{city:<|\"|>"
                       "San Francisco, CA<|\"|>,days:3,opts:{deep:true,tags:[<|\"|>a<|\"|>]}}<tool_call|>");
  EXPECT_EQ(out.reasoning, "Need data.");
  expect_call(out, 0, "get_weather",
              R"({"city":"San Francisco, CA","days":3,"opts":{"deep":true,"tags":["a"]}})");
}

TEST(HarmonyOutput, AnalysisFinalAndCalls) {
  auto format = format_of("openai-gpt-oss-120b.jinja");
  EXPECT_EQ(format.name, "harmony");
  auto out = parse_everywhere(format,
                              "<|channel|>analysis<|message|>User wants weather.<|end|><|start|>assistant"
                              "<|channel|>final<|message|>It is sunny.<|return|>");
  EXPECT_EQ(out.reasoning, "User wants weather.");
  EXPECT_EQ(out.content, "It is sunny.");
  out =
      parse_everywhere(format,
                       "<|channel|>analysis<|message|>Call it.<|end|><|start|>assistant<|channel|>commentary "
                       "to=functions.get_weather <|constrain|>json<|message|>{\"city\": \"SF\"}<|call|>");
  EXPECT_EQ(out.reasoning, "Call it.");
  expect_call(out, 0, "get_weather", R"({"city":"SF"})");
  out = parse_everywhere(format,
                         " to=functions.a<|channel|>commentary json<|message|>{}<|call|><|start|>assistant "
                         "to=functions.b<|channel|>commentary json<|message|>{\"x\": 1}<|call|>");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 1, "b", R"({"x":1})");
  out = parse_everywhere(format, "<|channel|>commentary<|message|>Working on it.<|end|>");
  EXPECT_EQ(out.content, "Working on it.");
  out = parse_everywhere(format, "No header at all.");
  EXPECT_EQ(out.content, "No header at all.");
}

}  // namespace
}  // namespace tgi::chat
