#pragma once
// Shared by the output-parser tests: real template files, and a runner that parses one output fed
// whole, byte by byte and in random chunks, and requires the same result every time.
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/output/output_format.h"
#include "chat/output/output_parser.h"

namespace tgi::chat::output_testing {

inline std::string templates_dir() {
#ifdef TGI_TEST_DATA_DIR
  return std::string(TGI_TEST_DATA_DIR) + "/chat/templates/";
#else
  return "/work/shared/chat-templates/templates/";
#endif
}

inline std::string read_template(const std::string& name) {
  std::ifstream in(templates_dir() + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline OutputFormat detect_from_template(const std::string& name,
                                         const std::vector<std::string>& vocab_tokens = {}) {
  std::string source = read_template(name);
  EXPECT_FALSE(source.empty()) << "missing template " << name;
  return detect_output_format(source, [&](std::string_view token) {
    for (const auto& t : vocab_tokens) {
      if (t == token) return true;
    }
    return false;
  });
}

// A format by family name, from the template that shows it.
inline OutputFormat format_of(const std::string& template_name) {
  return detect_from_template(template_name);
}

inline bool operator_eq(const AssistantOutput& a, const AssistantOutput& b) {
  if (a.content != b.content || a.reasoning != b.reasoning || a.tool_calls.size() != b.tool_calls.size()) {
    return false;
  }
  for (size_t i = 0; i < a.tool_calls.size(); ++i) {
    if (a.tool_calls[i].name != b.tool_calls[i].name ||
        a.tool_calls[i].arguments != b.tool_calls[i].arguments) {
      return false;
    }
  }
  return true;
}

inline std::string describe(const AssistantOutput& o) {
  std::string s = "reasoning=[" + o.reasoning + "] content=[" + o.content + "] calls=";
  for (const auto& c : o.tool_calls) s += "{" + c.name + " " + c.arguments + "}";
  return s;
}

// Checks the delta stream's own rules: each call starts once, before its arguments, in order.
inline void check_delta_order(const std::vector<OutputDelta>& deltas) {
  size_t started = 0;
  for (const OutputDelta& d : deltas) {
    if (d.kind == OutputDelta::Kind::kToolCallStart) {
      EXPECT_EQ(d.tool_index, started) << "calls start in order";
      ++started;
    } else if (d.kind == OutputDelta::Kind::kToolCallArguments) {
      EXPECT_LT(d.tool_index, started) << "arguments after the start";
    }
  }
}

inline AssistantOutput run_chunks(const OutputFormat& format, const OutputParserOptions& options,
                                  std::string_view text, const std::vector<size_t>& cuts,
                                  std::vector<OutputDelta>* deltas_out = nullptr) {
  auto parser = make_output_parser(format, options);
  std::vector<OutputDelta> deltas;
  size_t prev = 0;
  for (size_t cut : cuts) {
    parser->feed(text.substr(prev, cut - prev), deltas);
    prev = cut;
  }
  parser->feed(text.substr(prev), deltas);
  parser->finish(deltas);
  check_delta_order(deltas);
  if (deltas_out) *deltas_out = deltas;
  return accumulate_deltas(deltas);
}

// Parses `text` whole, byte by byte and in random chunk sizes; all must agree. Returns the result.
inline AssistantOutput parse_everywhere(const OutputFormat& format, std::string_view text,
                                        OutputParserOptions options = {}) {
  auto parser = make_output_parser(format, options);
  AssistantOutput whole = parse_assistant_output(*parser, text);
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < text.size(); ++i) every_byte.push_back(i);
  AssistantOutput bytewise = run_chunks(format, options, text, every_byte);
  EXPECT_TRUE(operator_eq(whole, bytewise))
      << "byte by byte differs\n whole:    " << describe(whole) << "\n bytewise: " << describe(bytewise);
  std::mt19937 rng(static_cast<unsigned>(text.size()) * 7919u + 17u);
  for (int round = 0; round < 8; ++round) {
    std::vector<size_t> cuts;
    size_t at = 0;
    while (true) {
      at += 1 + rng() % 9;
      if (at >= text.size()) break;
      cuts.push_back(at);
    }
    AssistantOutput chunked = run_chunks(format, options, text, cuts);
    EXPECT_TRUE(operator_eq(whole, chunked))
        << "chunked differs\n whole:   " << describe(whole) << "\n chunked: " << describe(chunked);
  }
  return whole;
}

inline void expect_call(const AssistantOutput& out, size_t i, const std::string& name,
                        const std::string& args_json) {
  ASSERT_LT(i, out.tool_calls.size()) << describe(out);
  EXPECT_EQ(out.tool_calls[i].name, name);
  auto expected = nlohmann::ordered_json::parse(args_json);
  auto actual = nlohmann::ordered_json::parse(out.tool_calls[i].arguments, nullptr, false);
  EXPECT_FALSE(actual.is_discarded()) << out.tool_calls[i].arguments;
  EXPECT_EQ(actual, expected) << out.tool_calls[i].arguments;
}

}  // namespace tgi::chat::output_testing
