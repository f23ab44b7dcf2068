#pragma once
// Which syntax a model uses for tool calls and reasoning in its raw output, chosen once per model
// from the chat template source (what it teaches and renders) and the vocabulary (special tokens).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tgi::chat {

// How the text inside a tool-call block is laid out. Every kind is driven by the markers below,
// so a family is a row of data (output_format.cpp), not code.
enum class ToolCallSyntax {
  kNone,           // the model has no native syntax: only the whole-output JSON fallback applies
  kJsonObjects,    // open marker, then {"name":..,"arguments":..} objects or a [..] list of them
  kNameThenJson,   // open marker, NAME, name-end marker, JSON arguments, close marker
  kXmlParameters,  // open marker, then <function=NAME><parameter=K>V</parameter>.. style calls
  kPythonic,       // [name(key=value, ...), ...] with Python literals
  kGemma4,         // call:NAME{key:<|"|>text<|"|>,n:1}
  kHarmony,        // gpt-oss channels: <|channel|>commentary to=functions.NAME ... <|message|>{..}<|call|>
};

// Markers for the XML-parameter syntaxes. A marker ending in '"' is an attribute value: the rest
// of that tag (other attributes, '>') is skipped after it.
struct XmlCallMarkers {
  std::string invoke_open;  // "<function=", "<invoke name=\""; "" = name follows the block open
  std::vector<std::string> invoke_name_ends;  // ">", "\"", or for GLM "\n" / "<arg_key>"
  std::string invoke_close;                   // "</function>"; "" = the block close ends the single call
  std::string parameter_open;                 // "<parameter=", "<arg_key>"
  std::string parameter_name_end;             // ">", "\"", "</arg_key>"
  std::string parameter_value_open;           // "" or "<arg_value>"
  std::string parameter_close;                // "</parameter>", "</arg_value>"
};

struct OutputFormat {
  std::string name = "json";  // for logs: "hermes", "llama3_json", "mistral", "deepseek_v3", "harmony", ...

  ToolCallSyntax tool_syntax = ToolCallSyntax::kNone;
  std::vector<std::string> block_opens;      // any of these starts a tool-call block
  std::string block_close;                   // ends a block; "" = the block ends when its calls do
  std::vector<std::string> ignored_markers;  // wrappers removed from content (sections, response tags)

  // kNameThenJson
  std::string call_type_prefix;           // skipped when present ("function<｜tool▁sep｜>")
  std::vector<std::string> name_ends;     // where the name stops ("<｜tool▁sep｜>", "[ARGS]", "\n")
  std::string call_id_marker;             // "[CALL_ID]": an id follows the name, up to a name end
  std::string content_recipient;          // functionary's ">>>all": a "call" that is just content
  bool strip_function_namespace = false;  // Kimi's "functions.NAME:0" is NAME
  bool generation_opens_block = false;    // the generation prompt already wrote the block open

  XmlCallMarkers xml;

  // A whole output shaped like a call (starts with '{' or '[') is parsed as one even without
  // markers: the fallback for every family, and the native form of Llama 3.x JSON and pythonic.
  bool shape_may_be_pythonic = false;

  // Reasoning: the text between these markers is thinking. Empty open = no reasoning syntax.
  std::string reasoning_open;
  std::string reasoning_close;
};

// vocab_has_token: whether the tokenizer has this special token (may be always-false).
OutputFormat detect_output_format(std::string_view chat_template_source,
                                  const std::function<bool(std::string_view)>& vocab_has_token);

// Whether a special token's text is (part of) one of the format's markers. The server passes a
// generated special token to the parser only then: markers like [TOOL_CALLS] or <|channel|> are
// special tokens, while any other special token is dropped, as TGI's detokenizer drops it.
bool is_output_marker(const OutputFormat& format, std::string_view token);

// True when the rendered prompt ends inside an opened reasoning block, so the generation starts as
// thinking (DeepSeek-R1 / QwQ add "<think>\n"; Qwen3 with thinking off adds a closed pair).
bool prompt_opens_reasoning(const OutputFormat& format, std::string_view rendered_prompt);

}  // namespace tgi::chat
