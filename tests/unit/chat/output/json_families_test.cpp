// Families whose calls are JSON objects: Hermes/Qwen, Granite, Mistral v3, Nemotron, Command-A/R+,
// firefunction, Llama 3.x and the whole-output fallback.
#include "output_test_util.h"

namespace tgi::chat {
namespace {

using namespace output_testing;

TEST(HermesOutput, DetectedFromQwenHermesAndGraniteTemplates) {
  for (const char* name :
       {"Qwen-Qwen2.5-7B-Instruct.jinja", "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja",
        "Qwen-QwQ-32B.jinja", "Qwen-Qwen3-0.6B.jinja", "ibm-granite-granite-4.0.jinja"}) {
    EXPECT_EQ(format_of(name).name, "hermes") << name;
  }
  EXPECT_EQ(format_of("Qwen-Qwen3-0.6B.jinja").reasoning_open, "<think>");
  EXPECT_EQ(format_of("Qwen-Qwen2.5-7B-Instruct.jinja").reasoning_open, "");
}

TEST(HermesOutput, SingleCall) {
  auto out = parse_everywhere(format_of("Qwen-Qwen2.5-7B-Instruct.jinja"),
                              "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", "
                              "\"unit\": \"c\"}}\n</tool_call>");
  EXPECT_EQ(out.content, "");
  ASSERT_EQ(out.tool_calls.size(), 1u);
  EXPECT_EQ(out.tool_calls[0].arguments, "{\"city\":\"Paris\",\"unit\":\"c\"}");
  expect_call(out, 0, "get_weather", R"({"city":"Paris","unit":"c"})");
}

TEST(HermesOutput, ParallelCallsAndTextBefore) {
  auto out = parse_everywhere(
      format_of("Qwen-Qwen2.5-7B-Instruct.jinja"),
      "Let me check both.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": [1, {\"y\": "
      "\"}\"}]}}\n</tool_call>\n<tool_call>\n{\"name\": \"b\", \"arguments\": {}}\n</tool_call>");
  EXPECT_EQ(out.content, "Let me check both.");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 0, "a", R"({"x":[1,{"y":"}"}]})");
  expect_call(out, 1, "b", "{}");
}

TEST(HermesOutput, PlainContentAndToolsNotOffered) {
  auto format = format_of("Qwen-Qwen2.5-7B-Instruct.jinja");
  // Plain content is the text as generated, whitespace and all (TGI's content, byte for byte).
  auto out = parse_everywhere(format, "  The answer is 4 < 5 and <tool> is a word.\n");
  EXPECT_EQ(out.content, "  The answer is 4 < 5 and <tool> is a word.\n");
  EXPECT_TRUE(out.tool_calls.empty());
  OutputParserOptions no_tools;
  no_tools.parse_tool_calls = false;
  std::string text = "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>";
  out = parse_everywhere(format, text, no_tools);
  EXPECT_EQ(out.content, text);
  EXPECT_TRUE(out.tool_calls.empty());
}

TEST(HermesOutput, ReasoningThenCall) {
  auto format = format_of("Qwen-Qwen3-0.6B.jinja");
  auto out =
      parse_everywhere(format,
                       "<think>\nI need the weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", "
                       "\"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>");
  EXPECT_EQ(out.reasoning, "I need the weather.");
  EXPECT_EQ(out.content, "");
  expect_call(out, 0, "get_weather", R"({"city":"Oslo"})");
  // Reasoning not separated: the thinking is content, markers as generated.
  OutputParserOptions keep;
  keep.separate_reasoning = false;
  out = parse_everywhere(format, "<think>\nhmm\n</think>\n\nHi!", keep);
  EXPECT_EQ(out.reasoning, "");
  EXPECT_EQ(out.content, "<think>\nhmm\n</think>\n\nHi!");
}

TEST(HermesOutput, MalformedCallBecomesContent) {
  auto format = format_of("Qwen-Qwen2.5-7B-Instruct.jinja");
  auto out = parse_everywhere(format, "Sure <tool_call>\nnot json at all\n</tool_call> done");
  EXPECT_TRUE(out.tool_calls.empty());
  EXPECT_EQ(out.content, "Sure <tool_call>\nnot json at all\n</tool_call> done");
  out = parse_everywhere(format, "<tool_call>\n{\"arguments\": {\"a\": 1}");  // never completes
  EXPECT_TRUE(out.tool_calls.empty());
  EXPECT_EQ(out.content, "<tool_call>\n{\"arguments\": {\"a\": 1}");
  out = parse_everywhere(format, "Text <tool_ca");  // unfinished marker at the end
  EXPECT_EQ(out.content, "Text <tool_ca");
}

TEST(HermesOutput, TruncatedCallKeepsWhatWasStreamed) {
  auto out = parse_everywhere(format_of("Qwen-Qwen2.5-7B-Instruct.jinja"),
                              "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1");
  ASSERT_EQ(out.tool_calls.size(), 1u);
  EXPECT_EQ(out.tool_calls[0].name, "f");
  EXPECT_EQ(out.tool_calls[0].arguments, "{\"a\": 1");
}

TEST(HermesOutput, ArgumentsBeforeNameAndStringArguments) {
  auto format = format_of("Qwen-Qwen2.5-7B-Instruct.jinja");
  auto out = parse_everywhere(format,
                              "<tool_call>{\"arguments\": {\"q\": \"x\"}, \"name\": \"search\"}</tool_call>");
  expect_call(out, 0, "search", R"({"q":"x"})");
  out =
      parse_everywhere(format, "<tool_call>{\"name\": \"s\", \"arguments\": \"{\\\"q\\\": 2}\"}</tool_call>");
  expect_call(out, 0, "s", R"({"q":2})");
}

TEST(GraniteOutput, ListAfterToolCallToken) {
  auto format = format_of("ibm-granite-granite-3.3-2B-Instruct.jinja");
  EXPECT_EQ(format.name, "granite");
  auto out = parse_everywhere(format,
                              "<|tool_call|>[{\"name\": \"a\", \"arguments\": {\"n\": 1}}, {\"name\": \"b\", "
                              "\"arguments\": {\"n\": 2}}]");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 1, "b", R"({"n":2})");
  EXPECT_EQ(out.content, "");
}

TEST(MistralV3Output, JsonListAfterToolCalls) {
  auto format = format_of("mistralai-Mistral-Nemo-Instruct-2407.jinja");
  EXPECT_EQ(format.name, "mistral_v3");
  auto out = parse_everywhere(format,
                              "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"SF\"}, "
                              "\"id\": \"abcdefghi\"}, {\"name\": \"t\", \"arguments\": {}}]");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 0, "get_weather", R"({"city":"SF"})");
  out = parse_everywhere(format, "Hello [TOOL_CALLS] nope");
  EXPECT_EQ(out.content, "Hello [TOOL_CALLS] nope");
}

TEST(NemotronOutput, ToolcallTags) {
  auto format = format_of("variants/NVIDIA-Nemotron-Nano-v2.jinja");
  EXPECT_EQ(format.name, "nemotron");
  auto out = parse_everywhere(format,
                              "<think>\nok\n</think>\n<TOOLCALL>[{\"name\": \"a\", \"arguments\": {\"k\": "
                              "\"v\"}}]</TOOLCALL>");
  EXPECT_EQ(out.reasoning, "ok");
  expect_call(out, 0, "a", R"({"k":"v"})");
}

TEST(CommandAOutput, ActionsThinkingAndResponse) {
  auto format = format_of("Cohere2MoE.jinja");
  EXPECT_EQ(format.name, "command_a");
  EXPECT_EQ(format.reasoning_open, "<|START_THINKING|>");
  EXPECT_EQ(format_of("variants/CohereForAI-c4ai-command-r7b-12-2024-tool_use.jinja").name, "command_a");
  auto out = parse_everywhere(
      format,
      "<|START_THINKING|>I will look it up.<|END_THINKING|><|START_ACTION|>[\n    "
      "{\"tool_call_id\": \"0\", \"tool_name\": \"search\", \"parameters\": {\"q\": \"x\"}}\n"
      "]<|END_ACTION|>");
  EXPECT_EQ(out.reasoning, "I will look it up.");
  expect_call(out, 0, "search", R"({"q":"x"})");
  out = parse_everywhere(format, "<|START_RESPONSE|>Hello there.<|END_RESPONSE|>");
  EXPECT_EQ(out.content, "Hello there.");
}

TEST(CommandRPlusOutput, ActionFence) {
  auto format = format_of("CohereForAI-c4ai-command-r-plus-tool_use.jinja");
  EXPECT_EQ(format.name, "command_r_plus");
  auto out =
      parse_everywhere(format,
                       "Action: ```json\n[\n    {\n        \"tool_name\": \"internet_search\",\n        "
                       "\"parameters\": {\"query\": \"x\"}\n    }\n]\n```");
  expect_call(out, 0, "internet_search", R"({"query":"x"})");
  EXPECT_EQ(out.content, "");
}

TEST(FirefunctionOutput, Functools) {
  auto format = format_of("fireworks-ai-llama-3-firefunction-v2.jinja");
  EXPECT_EQ(format.name, "firefunction");
  auto out = parse_everywhere(format, " functools[{\"name\": \"a\", \"arguments\": {\"x\": 1}}]");
  expect_call(out, 0, "a", R"({"x":1})");
}

TEST(Llama3JsonOutput, BareObjectPythonTagAndSemicolons) {
  auto format = format_of("meta-llama-Llama-3.1-8B-Instruct.jinja");
  EXPECT_EQ(format.name, "llama3_json");
  EXPECT_EQ(format_of("meta-llama-Llama-3.2-3B-Instruct.jinja").name, "llama3_json");
  auto out = parse_everywhere(format, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"SF\"}}");
  expect_call(out, 0, "get_weather", R"({"city":"SF"})");
  EXPECT_EQ(out.content, "");
  out = parse_everywhere(format,
                         "<|python_tag|>{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", "
                         "\"parameters\": {\"z\": null}}");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 1, "b", R"({"z":null})");
  out = parse_everywhere(format, "{\"answer\": 42}");
  EXPECT_TRUE(out.tool_calls.empty());
  EXPECT_EQ(out.content, "{\"answer\": 42}");
  out = parse_everywhere(format, "{\"name\": \"Bob\", \"age\": 3}");
  EXPECT_TRUE(out.tool_calls.empty());
  EXPECT_EQ(out.content, "{\"name\": \"Bob\", \"age\": 3}");
}

TEST(FallbackOutput, AnyTemplateAcceptsAWholeJsonCall) {
  auto format = format_of("mistralrs-chatml.from-json.jinja");
  EXPECT_EQ(format.name, "json");
  auto out = parse_everywhere(
      format, "```json\n{\"function\": {\"_name\": \"get_weather\", \"city\": \"Rome\"}}\n```");
  expect_call(out, 0, "get_weather", R"({"city":"Rome"})");
  out = parse_everywhere(
      format, "[{\"tool_name\": \"a\", \"parameters\": {}}, {\"name\": \"b\", \"arguments\": {\"q\": 1}}]");
  ASSERT_EQ(out.tool_calls.size(), 2u);
  expect_call(out, 1, "b", R"({"q":1})");
  out = parse_everywhere(format, "{\"function\": \"f\", \"arguments\": {\"a\": \"b\"}}");
  expect_call(out, 0, "f", R"({"a":"b"})");
  out = parse_everywhere(format, "[1, 2, 3] are numbers");
  EXPECT_EQ(out.content, "[1, 2, 3] are numbers");
  out = parse_everywhere(format, "```python\nprint(1)\n```");
  EXPECT_EQ(out.content, "```python\nprint(1)\n```");
  out = parse_everywhere(format, "Here: {\"name\": \"a\", \"arguments\": {}}");
  EXPECT_TRUE(out.tool_calls.empty());
}

}  // namespace
}  // namespace tgi::chat
