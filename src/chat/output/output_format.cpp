#include "chat/output/output_format.h"

#include <algorithm>

namespace tgi::chat {
namespace {

// One row per family: the row applies when the template contains every needle (or, for rows
// without needles, when the vocabulary has the token). Rows are tried in order, so a family whose
// markers contain another family's (Qwen3-Coder's "<tool_call>" + "<function=") comes first.
struct FamilyRow {
  std::vector<std::string_view> template_needles;
  std::string_view vocab_token;  // alternative evidence: the tokenizer has this special token
  OutputFormat format;
};

const XmlCallMarkers kQwenXml{"<function=", {">"}, "</function>", "<parameter=", ">", "", "</parameter>"};
const XmlCallMarkers kInvokeXml{"<invoke name=\"", {"\""}, "</invoke>", "<parameter name=\"", "\"", "",
                                "</parameter>"};
const XmlCallMarkers kDsmlXml{"<｜DSML｜invoke name=\"",    {"\""}, "</｜DSML｜invoke>",
                              "<｜DSML｜parameter name=\"", "\"",   "",
                              "</｜DSML｜parameter>"};
const XmlCallMarkers kGlmXml{
    "", {"\n", "<arg_key>"}, "", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>"};

OutputFormat json_objects(std::string name, std::vector<std::string> opens, std::string close,
                          std::vector<std::string> ignored = {}) {
  OutputFormat f;
  f.name = std::move(name);
  f.tool_syntax = ToolCallSyntax::kJsonObjects;
  f.block_opens = std::move(opens);
  f.block_close = std::move(close);
  f.ignored_markers = std::move(ignored);
  return f;
}

OutputFormat xml_parameters(std::string name, std::string open, std::string close, XmlCallMarkers xml) {
  OutputFormat f;
  f.name = std::move(name);
  f.tool_syntax = ToolCallSyntax::kXmlParameters;
  f.block_opens = {std::move(open)};
  f.block_close = std::move(close);
  f.xml = std::move(xml);
  return f;
}

OutputFormat name_then_json(std::string name, std::string open, std::vector<std::string> name_ends,
                            std::string close) {
  OutputFormat f;
  f.name = std::move(name);
  f.tool_syntax = ToolCallSyntax::kNameThenJson;
  f.block_opens = {std::move(open)};
  f.name_ends = std::move(name_ends);
  f.block_close = std::move(close);
  return f;
}

OutputFormat deepseek(std::string name) {
  // V3 writes "function<｜tool▁sep｜>NAME\n```json\n{..}\n```", V3.1 "NAME<｜tool▁sep｜>{..}": one
  // row reads both, since the name stops at the separator or the newline before the fence.
  OutputFormat f = name_then_json(std::move(name), "<｜tool▁call▁begin｜>", {"<｜tool▁sep｜>", "\n"},
                                  "<｜tool▁call▁end｜>");
  f.call_type_prefix = "function<｜tool▁sep｜>";
  f.ignored_markers = {"<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"};
  return f;
}

OutputFormat kimi() {
  OutputFormat f =
      name_then_json("kimi_k2", "<|tool_call_begin|>", {"<|tool_call_argument_begin|>"}, "<|tool_call_end|>");
  f.ignored_markers = {"<|tool_calls_section_begin|>", "<|tool_calls_section_end|>"};
  f.strip_function_namespace = true;
  return f;
}

OutputFormat mistral(std::string name) {
  // Both generations start with [TOOL_CALLS]: v3 follows it with a JSON list (the scanner
  // accepts that too), newer models with NAME[ARGS]{..}, maybe NAME[CALL_ID]id[ARGS]{..}.
  OutputFormat f = name_then_json(std::move(name), "[TOOL_CALLS]", {"[ARGS]"}, "");
  f.call_id_marker = "[CALL_ID]";
  return f;
}

OutputFormat functionary_v32() {
  // The generation prompt ends with ">>>": the model writes a recipient, a newline and either
  // JSON arguments or (recipient "all") text for the user; ">>>" starts the next one.
  OutputFormat f = name_then_json("functionary_v3_2", ">>>", {"\n"}, "");
  f.content_recipient = "all";
  f.generation_opens_block = true;
  return f;
}

OutputFormat pythonic(std::string name, std::string open, std::string close) {
  OutputFormat f;
  f.name = std::move(name);
  f.tool_syntax = ToolCallSyntax::kPythonic;
  f.block_opens = {std::move(open)};
  f.block_close = std::move(close);
  f.shape_may_be_pythonic = true;
  return f;
}

OutputFormat special(std::string name, ToolCallSyntax syntax, std::string open, std::string close) {
  OutputFormat f;
  f.name = std::move(name);
  f.tool_syntax = syntax;
  if (!open.empty()) f.block_opens = {std::move(open)};
  f.block_close = std::move(close);
  return f;
}

const std::vector<FamilyRow>& family_rows() {
  static const std::vector<FamilyRow> rows = [] {
    std::vector<FamilyRow> r;
    r.push_back({{"<|channel|>", "<|message|>"}, "", special("harmony", ToolCallSyntax::kHarmony, "", "")});
    r.push_back({{"<|tool_call>call:"},
                 "",
                 special("gemma4", ToolCallSyntax::kGemma4, "<|tool_call>", "<tool_call|>")});
    r.push_back(
        {{"｜DSML｜", "function_calls>"},
         "",
         xml_parameters("deepseek_v3_2", "<｜DSML｜function_calls>", "</｜DSML｜function_calls>", kDsmlXml)});
    r.push_back({{"｜DSML｜", "tool_calls>"},
                 "",
                 xml_parameters("deepseek_v4", "<｜DSML｜tool_calls>", "</｜DSML｜tool_calls>", kDsmlXml)});
    r.push_back({{"<|tool_call_begin|>"}, "", kimi()});
    r.push_back({{"<｜tool▁call▁begin｜>", "```json"}, "", deepseek("deepseek_v3")});
    r.push_back({{"<｜tool▁call▁begin｜>"}, "", deepseek("deepseek_v3_1")});
    r.push_back({{"<minimax:tool_call>"},
                 "",
                 xml_parameters("minimax_m2", "<minimax:tool_call>", "</minimax:tool_call>", kInvokeXml)});
    r.push_back({{"<seed:tool_call>"},
                 "",
                 xml_parameters("seed_oss", "<seed:tool_call>", "</seed:tool_call>", kQwenXml)});
    r.push_back({{"<arg_key>"}, "", xml_parameters("glm45", "<tool_call>", "</tool_call>", kGlmXml)});
    r.push_back({{"<tool_call>", "<function=", "<parameter="},
                 "",
                 xml_parameters("qwen3_coder", "<tool_call>", "</tool_call>", kQwenXml)});
    r.push_back({{"<function=", "</function>"},
                 "",
                 name_then_json("functionary_v3_1", "<function=", {">"}, "</function>")});
    r.push_back({{">>>all"}, "", functionary_v32()});
    r.push_back({{"<tool_calls>"}, "", json_objects("apriel", {"<tool_calls>"}, "</tool_calls>")});
    r.push_back({{"<|START_ACTION|>"},
                 "",
                 json_objects("command_a", {"<|START_ACTION|>"}, "<|END_ACTION|>",
                              {"<|START_RESPONSE|>", "<|END_RESPONSE|>"})});
    r.push_back({{"Action:", "tool_name"}, "", json_objects("command_r_plus", {"Action:"}, "")});
    r.push_back({{"<TOOLCALL>"}, "", json_objects("nemotron", {"<TOOLCALL>"}, "</TOOLCALL>")});
    r.push_back({{"<|tool_call|>"}, "", json_objects("granite", {"<|tool_call|>"}, "")});
    r.push_back({{"<tool_call>"}, "", json_objects("hermes", {"<tool_call>"}, "</tool_call>")});
    r.push_back({{"[TOOL_CALLS]", "[ARGS]"}, "", mistral("mistral")});
    r.push_back({{"[TOOL_CALLS]"}, "", mistral("mistral_v3")});
    r.push_back({{"functools"}, "", json_objects("firefunction", {"functools"}, "")});
    r.push_back(
        {{"<|python_start|>"}, "", pythonic("llama4_pythonic", "<|python_start|>", "<|python_end|>")});
    r.push_back({{"tool_code"}, "", pythonic("gemma_tool_code", "```tool_code", "```")});
    r.push_back(
        {{"<|python_tag|>"}, "", json_objects("llama3_json", {"<|python_tag|>"}, "", {"<|eom_id|>"})});
    // Llama 3.2 renders calls as {"name": .., "parameters": ..} without the python tag.
    r.push_back({{"<|start_header_id|>", "\"parameters\": "},
                 "",
                 json_objects("llama3_json", {"<|python_tag|>"}, "", {"<|eom_id|>"})});
    // Templates that do not show the syntax (tools injected by the server): the vocabulary tells.
    r.push_back({{}, "[TOOL_CALLS]", mistral("mistral")});
    r.push_back({{}, "<|python_start|>", pythonic("llama4_pythonic", "<|python_start|>", "<|python_end|>")});
    r.push_back({{}, "<|python_tag|>", json_objects("llama3_json", {"<|python_tag|>"}, "", {"<|eom_id|>"})});
    r.push_back({{}, "<tool_call>", json_objects("hermes", {"<tool_call>"}, "</tool_call>")});
    return r;
  }();
  return rows;
}

struct ReasoningRow {
  std::string_view needle;  // in the template, or as a vocabulary token
  std::string_view open, close;
};

// Specific spellings first: "<think>" is a substring of "<seed:think>"'s neighbours in text.
constexpr ReasoningRow kReasoningRows[] = {
    {"<seed:think>", "<seed:think>", "</seed:think>"},
    {"[THINK]", "[THINK]", "[/THINK]"},
    {"<|START_THINKING|>", "<|START_THINKING|>", "<|END_THINKING|>"},
    {"<|channel>", "<|channel>thought", "<channel|>"},
    {"◁think▷", "◁think▷", "◁/think▷"},
    {"<think>", "<think>", "</think>"},
    {"</think>", "<think>", "</think>"},
};

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

OutputFormat detect_output_format(std::string_view chat_template_source,
                                  const std::function<bool(std::string_view)>& vocab_has_token) {
  auto has_token = [&](std::string_view token) { return vocab_has_token && vocab_has_token(token); };
  OutputFormat format;
  for (const FamilyRow& row : family_rows()) {
    bool matches = row.template_needles.empty()
                       ? has_token(row.vocab_token)
                       : std::all_of(row.template_needles.begin(), row.template_needles.end(),
                                     [&](std::string_view n) { return contains(chat_template_source, n); });
    if (matches) {
      format = row.format;
      break;
    }
  }
  if (format.tool_syntax == ToolCallSyntax::kHarmony) return format;  // channels carry the reasoning
  for (const ReasoningRow& row : kReasoningRows) {
    if (contains(chat_template_source, row.needle) || has_token(row.needle)) {
      format.reasoning_open = row.open;
      format.reasoning_close = row.close;
      break;
    }
  }
  return format;
}

bool prompt_opens_reasoning(const OutputFormat& format, std::string_view rendered_prompt) {
  if (format.reasoning_open.empty()) return false;
  size_t open = rendered_prompt.rfind(format.reasoning_open);
  if (open == std::string_view::npos) return false;
  // Only whitespace may follow the opening marker: a closed pair or an answer means the prompt is
  // past the thinking.
  std::string_view rest = rendered_prompt.substr(open + format.reasoning_open.size());
  return rest.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

bool is_output_marker(const OutputFormat& format, std::string_view token) {
  if (token.empty()) return false;
  auto within = [&](std::string_view marker) { return marker.find(token) != std::string_view::npos; };
  if (format.tool_syntax == ToolCallSyntax::kHarmony)
    for (std::string_view marker :
         {"<|channel|>", "<|message|>", "<|start|>", "<|end|>", "<|call|>", "<|return|>", "<|constrain|>"})
      if (within(marker)) return true;
  for (const auto& list :
       {format.block_opens, format.ignored_markers, format.name_ends, format.xml.invoke_name_ends})
    for (const std::string& marker : list)
      if (within(marker)) return true;
  const XmlCallMarkers& xml = format.xml;
  for (const std::string* marker :
       {&format.block_close, &format.call_type_prefix, &format.call_id_marker, &format.content_recipient,
        &format.reasoning_open, &format.reasoning_close, &xml.invoke_open, &xml.invoke_close,
        &xml.parameter_open, &xml.parameter_name_end, &xml.parameter_value_open, &xml.parameter_close})
    if (within(*marker)) return true;
  return false;
}

}  // namespace tgi::chat
