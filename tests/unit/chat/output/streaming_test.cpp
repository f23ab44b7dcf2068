// What a streaming client sees: early content, held-back marker prefixes, early call names,
// arguments in fragments, and robustness against arbitrary text.
#include <random>

#include "output_test_util.h"

namespace tgi::chat {
namespace {

using namespace output_testing;
using Kind = OutputDelta::Kind;

std::string joined(const std::vector<OutputDelta>& deltas, Kind kind) {
  std::string s;
  for (const auto& d : deltas) {
    if (d.kind == kind) s += d.text;
  }
  return s;
}

TEST(StreamingOutput, ContentStreamsAndHoldsOnlyAPossibleMarker) {
  auto parser = make_output_parser(format_of("Qwen-Qwen2.5-7B-Instruct.jinja"), {});
  std::vector<OutputDelta> deltas;
  parser->feed("Hello there <tool", deltas);
  EXPECT_EQ(joined(deltas, Kind::kContent), "Hello there");
  parser->feed("_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Pa", deltas);
  EXPECT_EQ(joined(deltas, Kind::kContent), "Hello there");  // no marker text in content
  ASSERT_GE(deltas.size(), 3u);
  std::vector<OutputDelta> calls;
  for (const auto& d : deltas) {
    if (d.kind != Kind::kContent) calls.push_back(d);
  }
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls[0].kind, Kind::kToolCallStart);
  EXPECT_EQ(calls[0].text, "get_weather");
  EXPECT_EQ(joined(deltas, Kind::kToolCallArguments), "{\"city\": \"Pa");
  parser->feed("ris\"}}\n</tool_call>", deltas);
  parser->finish(deltas);
  EXPECT_EQ(joined(deltas, Kind::kToolCallArguments), "{\"city\": \"Paris\"}");
}

TEST(StreamingOutput, ReasoningStreamsWithoutMarkers) {
  auto parser = make_output_parser(format_of("Qwen-Qwen3-0.6B.jinja"), {});
  std::vector<OutputDelta> deltas;
  parser->feed("<think>\nStep one", deltas);
  EXPECT_EQ(joined(deltas, Kind::kReasoning), "Step one");
  parser->feed(".</thi", deltas);
  EXPECT_EQ(joined(deltas, Kind::kReasoning), "Step one.");
  parser->feed("nk>\n\nAnswer", deltas);
  EXPECT_EQ(joined(deltas, Kind::kContent), "Answer");
  for (const auto& d : deltas) EXPECT_EQ(d.text.find("think>"), std::string::npos) << d.text;
}

TEST(StreamingOutput, BareJsonIsHeldUntilKnownToBeACall) {
  auto format = format_of("meta-llama-Llama-3.1-8B-Instruct.jinja");
  auto parser = make_output_parser(format, {});
  std::vector<OutputDelta> deltas;
  parser->feed("{\"name\": \"get_weather\"", deltas);
  EXPECT_TRUE(deltas.empty());  // not yet known to be a call, nor content
  parser->feed(", \"parameters\": {\"city\":", deltas);
  ASSERT_FALSE(deltas.empty());
  EXPECT_EQ(deltas[0].kind, Kind::kToolCallStart);
  EXPECT_EQ(joined(deltas, Kind::kToolCallArguments), "{\"city\":");

  auto plain = make_output_parser(format, {});
  std::vector<OutputDelta> content;
  plain->feed("{\"title\": \"x\",", content);  // not a call key: content right away
  EXPECT_EQ(joined(content, Kind::kContent), "{\"title\": \"x\",");
}

TEST(StreamingOutput, XmlCallNameBeforeArguments) {
  auto parser = make_output_parser(format_of("Qwen3-Coder.jinja"), {});
  std::vector<OutputDelta> deltas;
  parser->feed("<tool_call>\n<function=write_file>\n<parameter=path>\na.txt\n</parameter>\n", deltas);
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].kind, Kind::kToolCallStart);
  EXPECT_EQ(deltas[0].text, "write_file");
  parser->feed("</function>\n</tool_call>", deltas);
  EXPECT_EQ(joined(deltas, Kind::kToolCallArguments), "{\"path\":\"a.txt\"}");
}

TEST(StreamingOutput, SplitUtf8NeverReachesADelta) {
  auto parser = make_output_parser(format_of("Qwen-Qwen2.5-7B-Instruct.jinja"), {});
  std::vector<OutputDelta> deltas;
  std::string text =
      "Größe: 日本 <tool_call>{\"name\": \"f\", \"arguments\": {\"k\": \"日本語\"}}</tool_call>";
  for (char c : text) {
    parser->feed(std::string_view(&c, 1), deltas);
    for (const auto& d : deltas) {
      EXPECT_NO_THROW((void)nlohmann::json(d.text).dump()) << "invalid UTF-8 in a delta";
    }
  }
  parser->finish(deltas);
  auto out = accumulate_deltas(deltas);
  EXPECT_EQ(out.content, "Größe: 日本");
  expect_call(out, 0, "f", R"({"k":"日本語"})");
}

TEST(StreamingOutput, PromptOpensReasoning) {
  auto qwen3 = format_of("Qwen-Qwen3-0.6B.jinja");
  EXPECT_TRUE(prompt_opens_reasoning(qwen3, "<|im_start|>assistant\n<think>\n"));
  EXPECT_FALSE(prompt_opens_reasoning(qwen3, "<|im_start|>assistant\n<think>\n\n</think>\n\n"));
  EXPECT_FALSE(prompt_opens_reasoning(qwen3, "<|im_start|>assistant\n"));
  auto r1 = format_of("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja");
  EXPECT_TRUE(prompt_opens_reasoning(r1, "<｜User｜>hi<｜Assistant｜><think>\n"));
  EXPECT_TRUE(prompt_opens_reasoning(format_of("Qwen-QwQ-32B.jinja"), "<|im_start|>assistant\n<think>\n"));
  EXPECT_FALSE(prompt_opens_reasoning(format_of("GLM-4.7-Flash.jinja"), "<|assistant|></think>"));
  EXPECT_FALSE(prompt_opens_reasoning(format_of("Qwen-Qwen2.5-7B-Instruct.jinja"), "<think>\n"));
  // A thought that never closes stays reasoning.
  OutputParserOptions opts;
  opts.starts_in_reasoning = true;
  auto out = parse_everywhere(r1, "Still thinking about it", opts);
  EXPECT_EQ(out.reasoning, "Still thinking about it");
  EXPECT_EQ(out.content, "");
}

const char* const kAllTemplates[] = {"Qwen-Qwen2.5-7B-Instruct.jinja",
                                     "Qwen-Qwen3-0.6B.jinja",
                                     "Qwen3-Coder.jinja",
                                     "GLM-4.7-Flash.jinja",
                                     "variants/GLM-4.6.jinja",
                                     "MiniMax-M2.jinja",
                                     "meta-llama-Llama-3.1-8B-Instruct.jinja",
                                     "mistralai-Mistral-Nemo-Instruct-2407.jinja",
                                     "Mistral-Small-3.2-24B-Instruct-2506.jinja",
                                     "llama-cpp-deepseek-r1.jinja",
                                     "variants/deepseek-ai-DeepSeek-V3.1.jinja",
                                     "deepseek-ai-DeepSeek-V3.2.jinja",
                                     "Kimi-K2-Instruct.jinja",
                                     "openai-gpt-oss-120b.jinja",
                                     "ibm-granite-granite-3.3-2B-Instruct.jinja",
                                     "Cohere2MoE.jinja",
                                     "CohereForAI-c4ai-command-r-plus-tool_use.jinja",
                                     "variants/NVIDIA-Nemotron-Nano-v2.jinja",
                                     "fireworks-ai-llama-3-firefunction-v2.jinja",
                                     "meetkai-functionary-medium-v3.1.jinja",
                                     "meetkai-functionary-medium-v3.2.jinja",
                                     "google-gemma-4-31B-it.jinja",
                                     "variants/ByteDance-Seed-OSS.jinja",
                                     "mistralai-Ministral-3-14B-Reasoning-2512.jinja",
                                     "mistralrs-chatml.from-json.jinja"};

// Pieces of every syntax, shuffled into nonsense: the parsers must not throw, must terminate,
// and must still give the same result however the text is split.
TEST(StreamingOutput, MarkerSoupAndRandomBytes) {
  const std::vector<std::string> soup = {"<tool_call>",
                                         "</tool_call>",
                                         "{",
                                         "}",
                                         "[",
                                         "]",
                                         "\"name\"",
                                         ": ",
                                         "\"f\"",
                                         ", ",
                                         "\"arguments\"",
                                         "<think>",
                                         "</think>",
                                         "<function=",
                                         ">",
                                         "<parameter=",
                                         "</parameter>",
                                         "</function>",
                                         "<arg_key>",
                                         "</arg_key>",
                                         "<arg_value>",
                                         "[TOOL_CALLS]",
                                         "[ARGS]",
                                         "<|python_tag|>",
                                         "<｜tool▁call▁begin｜>",
                                         "<｜tool▁sep｜>",
                                         "<｜tool▁call▁end｜>",
                                         "<|tool_call_begin|>",
                                         "<|tool_call_argument_begin|>",
                                         "<|channel|>",
                                         "analysis",
                                         "final",
                                         "<|message|>",
                                         "<|end|>",
                                         "<|call|>",
                                         " to=functions.x",
                                         "```",
                                         "json",
                                         "\n",
                                         " ",
                                         "text",
                                         "日本",
                                         "\\",
                                         "\"",
                                         "f(",
                                         ")",
                                         "=",
                                         "'",
                                         "<|\"|>",
                                         "call:",
                                         "<|tool_call>",
                                         "<tool_call|>",
                                         ">>>",
                                         "all",
                                         "<invoke name=\"",
                                         "\">",
                                         "</invoke>",
                                         "<minimax:tool_call>",
                                         ";",
                                         "1"};
  std::mt19937 rng(12345);
  for (const char* name : kAllTemplates) {
    OutputFormat format = format_of(name);
    for (int round = 0; round < 40; ++round) {
      std::string text;
      int pieces = 1 + rng() % 25;
      for (int i = 0; i < pieces; ++i) text += soup[rng() % soup.size()];
      if (round % 5 == 0) {
        for (int i = 0; i < 20; ++i) text += static_cast<char>(rng() % 256);
      }
      OutputParserOptions opts;
      opts.starts_in_reasoning = round % 3 == 0;
      opts.separate_reasoning = round % 4 != 0;
      opts.parse_tool_calls = round % 7 != 0;
      SCOPED_TRACE(std::string(name) + " text: " + text);
      EXPECT_NO_THROW(parse_everywhere(format, text, opts));
    }
  }
}

// Every delta kind but arguments is free of markers for every family's realistic outputs.
TEST(StreamingOutput, DetectionOfUnknownTemplateIsTheFallback) {
  OutputFormat format = detect_output_format("{{ messages }}", nullptr);
  EXPECT_EQ(format.name, "json");
  EXPECT_EQ(format.reasoning_open, "");
  auto out = parse_everywhere(format, "Hello!");
  EXPECT_EQ(out.content, "Hello!");
}

}  // namespace
}  // namespace tgi::chat
