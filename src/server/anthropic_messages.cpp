#include "server/anthropic_messages.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "server/json_fields.h"

namespace tgi::server {

namespace {

// Separate text blocks are separate thoughts (Claude Code sends a system prompt and reminders as
// several blocks); gluing them together with nothing between would merge their sentences.
constexpr const char* kTextBlockSeparator = "\n\n";

// Model output may hold invalid UTF-8 (a token cut mid-character); a response must still go out.
std::string compact(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Error invalid_type(const std::string& path, const json& value, const char* expected) {
  return shape_error(path,
                     fmt::format("invalid type: {}, expected {}", describe_json_value(value), expected));
}

Error missing_field(const std::string& path, const char* name) {
  return shape_error(path, fmt::format("missing field `{}`", name));
}

// Absent and null read the same: Anthropic's clients send null for unset optional fields.
const json* find_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> required_string(const json& object, const std::string& path, const char* name) {
  const json* value = find_field(object, name);
  if (value == nullptr) return missing_field(path, name);
  if (!value->is_string()) return invalid_type(join_path(path, name), *value, "a string");
  return value->get<std::string>();
}

std::string join_texts(const std::vector<std::string>& texts) {
  std::string joined;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i > 0) joined += kTextBlockSeparator;
    joined += texts[i];
  }
  return joined;
}

// A content block's `type`, checking the block is an object with one.
Result<std::string> block_type(const json& block, const std::string& path) {
  if (!block.is_object()) return invalid_type(path, block, "a content block object");
  return required_string(block, path, "type");
}

Error unsupported_block(const std::string& path, const std::string& type) {
  return shape_error(path, fmt::format("`{}` content blocks are not supported by this server", type));
}

Error unknown_block(const std::string& path, const std::string& type, const char* expected) {
  return shape_error(join_path(path, "type"),
                     fmt::format("unknown content block type `{}`, expected {}", type, expected));
}

Error misplaced_block(const std::string& path, const std::string& type, const char* role) {
  return shape_error(path, fmt::format("`{}` content blocks are only allowed in {} messages", type, role));
}

bool is_media_block(const std::string& type) {
  return type == "image" || type == "document" || type == "container_upload";
}

// The text of a `text` block (its cache_control and citations do not change what the model reads).
Result<std::string> text_block_text(const json& block, const std::string& path) {
  return required_string(block, path, "text");
}

// `system`: a string, or text blocks.
Result<std::string> system_prompt(const json& system) {
  if (system.is_string()) return system.get<std::string>();
  if (!system.is_array()) return invalid_type("system", system, "a string or a sequence of text blocks");
  std::vector<std::string> texts;
  for (size_t i = 0; i < system.size(); ++i) {
    const std::string path = fmt::format("system[{}]", i);
    TGI_ASSIGN_OR_RETURN(std::string type, block_type(system[i], path));
    if (type != "text") return unknown_block(path, type, "`text`");
    TGI_ASSIGN_OR_RETURN(std::string text, text_block_text(system[i], path));
    texts.push_back(std::move(text));
  }
  return join_texts(texts);
}

// A tool_result's content: a string, or text blocks.
Result<std::string> tool_result_text(const json& content, const std::string& path) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return invalid_type(path, content, "a string or a sequence of content blocks");
  std::vector<std::string> texts;
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string block_path = fmt::format("{}[{}]", path, i);
    TGI_ASSIGN_OR_RETURN(std::string type, block_type(content[i], block_path));
    if (is_media_block(type)) return unsupported_block(block_path, type);
    if (type != "text") return unknown_block(block_path, type, "`text`");
    TGI_ASSIGN_OR_RETURN(std::string text, text_block_text(content[i], block_path));
    texts.push_back(std::move(text));
  }
  return join_texts(texts);
}

// A user's tool_result block → an OpenAI `tool` message answering the call it names.
Result<json> tool_message(const json& block, const std::string& path) {
  TGI_ASSIGN_OR_RETURN(std::string call_id, required_string(block, path, "tool_use_id"));
  std::string text;
  if (const json* content = find_field(block, "content")) {
    TGI_ASSIGN_OR_RETURN(text, tool_result_text(*content, join_path(path, "content")));
  }
  bool is_error = false;
  if (const json* flag = find_field(block, "is_error")) {
    if (!flag->is_boolean()) return invalid_type(join_path(path, "is_error"), *flag, "a boolean");
    is_error = flag->get<bool>();
  }
  // OpenAI's tool message has no error flag; the model can only learn of the failure by reading it.
  if (is_error) text = text.empty() ? "Error" : "Error: " + text;
  json message;
  message["role"] = "tool";
  message["tool_call_id"] = call_id;
  message["content"] = text;
  return message;
}

json user_message(const std::string& text) {
  json message;
  message["role"] = "user";
  message["content"] = text;
  return message;
}

// A user turn. Its tool_result blocks become tool messages and its text becomes user messages, in
// the order they were written, so each tool message still directly follows the call it answers.
Result<void> append_user_turn(const json& content, const std::string& path, json& messages) {
  if (content.is_string()) {
    messages.push_back(user_message(content.get<std::string>()));
    return {};
  }
  std::vector<std::string> pending_texts;
  bool appended_any = false;
  auto flush_texts = [&] {
    if (pending_texts.empty()) return;
    messages.push_back(user_message(join_texts(pending_texts)));
    pending_texts.clear();
    appended_any = true;
  };
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string block_path = fmt::format("{}[{}]", path, i);
    const json& block = content[i];
    TGI_ASSIGN_OR_RETURN(std::string type, block_type(block, block_path));
    if (type == "text") {
      TGI_ASSIGN_OR_RETURN(std::string text, text_block_text(block, block_path));
      pending_texts.push_back(std::move(text));
    } else if (type == "tool_result") {
      flush_texts();
      TGI_ASSIGN_OR_RETURN(json message, tool_message(block, block_path));
      messages.push_back(std::move(message));
      appended_any = true;
    } else if (is_media_block(type)) {
      return unsupported_block(block_path, type);
    } else if (type == "tool_use" || type == "thinking" || type == "redacted_thinking") {
      return misplaced_block(block_path, type, "assistant");
    } else {
      return unknown_block(block_path, type, "`text` or `tool_result`");
    }
  }
  flush_texts();
  if (!appended_any) messages.push_back(user_message(""));  // an empty turn is still a turn
  return {};
}

// An assistant tool_use block → an OpenAI tool call, its input object as the arguments string.
Result<json> tool_call(const json& block, const std::string& path) {
  TGI_ASSIGN_OR_RETURN(std::string id, required_string(block, path, "id"));
  TGI_ASSIGN_OR_RETURN(std::string name, required_string(block, path, "name"));
  const json* input = find_field(block, "input");
  if (input == nullptr) return missing_field(path, "input");
  if (!input->is_object()) return invalid_type(join_path(path, "input"), *input, "an object");
  json function;
  function["name"] = name;
  function["arguments"] = compact(*input);
  json call;
  call["id"] = id;
  call["type"] = "function";
  call["function"] = std::move(function);
  return call;
}

// An assistant turn: its text as content, its tool_use blocks as tool_calls. Thinking blocks are
// dropped: their signatures are Anthropic's and the template renders past reasoning its own way.
Result<void> append_assistant_turn(const json& content, const std::string& path, json& messages) {
  json message;
  message["role"] = "assistant";
  if (content.is_string()) {
    message["content"] = content.get<std::string>();
    messages.push_back(std::move(message));
    return {};
  }
  std::vector<std::string> texts;
  json calls = json::array();
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string block_path = fmt::format("{}[{}]", path, i);
    const json& block = content[i];
    TGI_ASSIGN_OR_RETURN(std::string type, block_type(block, block_path));
    if (type == "text") {
      TGI_ASSIGN_OR_RETURN(std::string text, text_block_text(block, block_path));
      texts.push_back(std::move(text));
    } else if (type == "tool_use") {
      TGI_ASSIGN_OR_RETURN(json call, tool_call(block, block_path));
      calls.push_back(std::move(call));
    } else if (type == "thinking" || type == "redacted_thinking") {
      continue;
    } else if (is_media_block(type)) {
      return unsupported_block(block_path, type);
    } else if (type == "tool_result") {
      return misplaced_block(block_path, type, "user");
    } else {
      return unknown_block(block_path, type, "`text`, `tool_use`, `thinking` or `redacted_thinking`");
    }
  }
  // A turn that only held thinking says nothing the model can be shown.
  if (texts.empty() && calls.empty()) return {};
  message["content"] = texts.empty() ? json(nullptr) : json(join_texts(texts));
  if (!calls.empty()) message["tool_calls"] = std::move(calls);
  messages.push_back(std::move(message));
  return {};
}

Result<json> chat_messages(const json& body) {
  json messages = json::array();
  if (const json* system = find_field(body, "system")) {
    TGI_ASSIGN_OR_RETURN(std::string prompt, system_prompt(*system));
    if (!prompt.empty()) {
      json message;
      message["role"] = "system";
      message["content"] = std::move(prompt);
      messages.push_back(std::move(message));
    }
  }
  const json* turns = find_field(body, "messages");
  if (turns == nullptr) return missing_field("", "messages");
  if (!turns->is_array()) return invalid_type("messages", *turns, "a sequence of messages");
  for (size_t i = 0; i < turns->size(); ++i) {
    const std::string path = fmt::format("messages[{}]", i);
    const json& turn = (*turns)[i];
    if (!turn.is_object()) return invalid_type(path, turn, "a message object");
    TGI_ASSIGN_OR_RETURN(std::string role, required_string(turn, path, "role"));
    const json* content = find_field(turn, "content");
    if (content == nullptr) return missing_field(path, "content");
    const std::string content_path = join_path(path, "content");
    if (!content->is_string() && !content->is_array())
      return invalid_type(content_path, *content, "a string or a sequence of content blocks");
    if (role == "user") {
      TGI_TRY(append_user_turn(*content, content_path, messages));
    } else if (role == "assistant") {
      TGI_TRY(append_assistant_turn(*content, content_path, messages));
    } else {
      return shape_error(join_path(path, "role"),
                         fmt::format("unknown role `{}`, expected `user` or `assistant`", role));
    }
  }
  return messages;
}

Result<json> chat_tools(const json& tools) {
  if (!tools.is_array()) return invalid_type("tools", tools, "a sequence of tools");
  json out = json::array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string path = fmt::format("tools[{}]", i);
    const json& tool = tools[i];
    if (!tool.is_object()) return invalid_type(path, tool, "a tool object");
    // Anthropic's server tools (web search, code execution, ...) run on Anthropic's side; only
    // client tools, which the caller executes, mean anything here.
    if (const json* type = find_field(tool, "type")) {
      if (!type->is_string()) return invalid_type(join_path(path, "type"), *type, "a string");
      if (type->get<std::string>() != "custom")
        return shape_error(join_path(path, "type"),
                           fmt::format("tool type `{}` is not supported by this server; only client tools "
                                       "(name, description, input_schema) are",
                                       type->get<std::string>()));
    }
    TGI_ASSIGN_OR_RETURN(std::string name, required_string(tool, path, "name"));
    if (name.empty()) return shape_error(join_path(path, "name"), "invalid value: a tool needs a name");
    json function;
    function["name"] = name;
    if (const json* description = find_field(tool, "description")) {
      if (!description->is_string())
        return invalid_type(join_path(path, "description"), *description, "a string");
      function["description"] = *description;
    }
    const json* schema = find_field(tool, "input_schema");
    if (schema == nullptr) return missing_field(path, "input_schema");
    if (!schema->is_object()) return invalid_type(join_path(path, "input_schema"), *schema, "an object");
    function["parameters"] = *schema;
    json chat_tool;
    chat_tool["type"] = "function";
    chat_tool["function"] = std::move(function);
    out.push_back(std::move(chat_tool));
  }
  return out;
}

// tool_choice → OpenAI's tool_choice, plus parallel_tool_calls when parallel use is disabled.
Result<void> add_tool_choice(const json& choice, json& chat) {
  if (!choice.is_object()) return invalid_type("tool_choice", choice, "an object");
  TGI_ASSIGN_OR_RETURN(std::string type, required_string(choice, "tool_choice", "type"));
  if (type == "auto") {
    chat["tool_choice"] = "auto";
  } else if (type == "any") {
    chat["tool_choice"] = "required";
  } else if (type == "none") {
    chat["tool_choice"] = "none";
  } else if (type == "tool") {
    TGI_ASSIGN_OR_RETURN(std::string name, required_string(choice, "tool_choice", "name"));
    json function;
    function["name"] = name;
    json named;
    named["type"] = "function";
    named["function"] = std::move(function);
    chat["tool_choice"] = std::move(named);
  } else {
    return shape_error(
        "tool_choice.type",
        fmt::format("unknown tool choice `{}`, expected `auto`, `any`, `tool` or `none`", type));
  }
  if (const json* disable = find_field(choice, "disable_parallel_tool_use")) {
    if (!disable->is_boolean())
      return invalid_type("tool_choice.disable_parallel_tool_use", *disable, "a boolean");
    if (disable->get<bool>()) chat["parallel_tool_calls"] = false;
  }
  return {};
}

bool is_non_negative_integer(const json& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
}

// thinking → whether the chat template turns the model's thinking on. The budget has no equivalent:
// reasoning is bounded by max_tokens like everything else.
Result<void> add_thinking(const json& thinking, json& chat) {
  if (!thinking.is_object()) return invalid_type("thinking", thinking, "an object");
  TGI_ASSIGN_OR_RETURN(std::string type, required_string(thinking, "thinking", "type"));
  bool enable = false;
  if (type == "enabled" || type == "adaptive") {
    enable = true;
    if (const json* budget = find_field(thinking, "budget_tokens")) {
      if (!is_non_negative_integer(*budget))
        return invalid_type("thinking.budget_tokens", *budget, "a non-negative integer");
    }
  } else if (type != "disabled") {
    return shape_error(
        "thinking.type",
        fmt::format("unknown thinking type `{}`, expected `enabled`, `adaptive` or `disabled`", type));
  }
  json kwargs;
  kwargs["enable_thinking"] = enable;
  chat["chat_template_kwargs"] = std::move(kwargs);
  return {};
}

Result<json> translate_request(const json& body, bool max_tokens_required) {
  if (!body.is_object()) return invalid_type("", body, "a Messages request object");
  json chat;
  if (const json* model = find_field(body, "model")) {
    if (!model->is_string()) return invalid_type("model", *model, "a string");
    chat["model"] = *model;
  }
  TGI_ASSIGN_OR_RETURN(chat["messages"], chat_messages(body));
  if (max_tokens_required) {
    const json* max_tokens = find_field(body, "max_tokens");
    if (max_tokens == nullptr) return missing_field("", "max_tokens");
    if (!max_tokens->is_number_integer()) return invalid_type("max_tokens", *max_tokens, "an integer");
    if (!is_non_negative_integer(*max_tokens) || max_tokens->get<uint64_t>() < 1 ||
        max_tokens->get<uint64_t>() > std::numeric_limits<uint32_t>::max())
      return shape_error("max_tokens",
                         fmt::format("invalid value: {}, expected an integer from 1 to {}",
                                     compact(*max_tokens), std::numeric_limits<uint32_t>::max()));
    chat["max_tokens"] = *max_tokens;
  }
  if (const json* stops = find_field(body, "stop_sequences")) {
    if (!stops->is_array()) return invalid_type("stop_sequences", *stops, "a sequence of strings");
    for (size_t i = 0; i < stops->size(); ++i)
      if (!(*stops)[i].is_string())
        return invalid_type(fmt::format("stop_sequences[{}]", i), (*stops)[i], "a string");
    if (!stops->empty()) chat["stop"] = *stops;
  }
  for (const char* name : {"temperature", "top_p"}) {
    if (const json* value = find_field(body, name)) {
      if (!value->is_number()) return invalid_type(name, *value, "a number");
      chat[name] = *value;
    }
  }
  if (const json* top_k = find_field(body, "top_k")) {
    if (!is_non_negative_integer(*top_k)) return invalid_type("top_k", *top_k, "a non-negative integer");
    if (top_k->get<uint64_t>() > std::numeric_limits<uint32_t>::max())
      return shape_error("top_k", fmt::format("invalid value: {}, expected at most {}", compact(*top_k),
                                              std::numeric_limits<uint32_t>::max()));
    chat["top_k"] = *top_k;
  }
  if (const json* stream = find_field(body, "stream")) {
    if (!stream->is_boolean()) return invalid_type("stream", *stream, "a boolean");
    chat["stream"] = *stream;
  }
  if (const json* tools = find_field(body, "tools")) {
    TGI_ASSIGN_OR_RETURN(json chat_tool_list, chat_tools(*tools));
    // An empty list would still switch on the chat pipeline's tool prompt (its `no_tool` choice).
    if (!chat_tool_list.empty()) chat["tools"] = std::move(chat_tool_list);
  }
  if (const json* choice = find_field(body, "tool_choice")) TGI_TRY(add_tool_choice(*choice, chat));
  if (const json* thinking = find_field(body, "thinking")) TGI_TRY(add_thinking(*thinking, chat));
  // metadata, service_tier and fields of newer API versions change nothing about the generation.
  return chat;
}

// Anthropic's stop_reason. A cut-off generation is `max_tokens` even if it began a tool call, whose
// arguments may then be incomplete; only the client's own stop strings count as stop_sequence.
const char* stop_reason(const ChatOutcome& outcome) {
  if (outcome.finish_reason == engine::FinishReason::kLength) return "max_tokens";
  if (!outcome.output.tool_calls.empty()) return "tool_use";
  if (outcome.finish_reason == engine::FinishReason::kStopSequence && outcome.stop_sequence)
    return "stop_sequence";
  return "end_turn";
}

json stop_sequence(const ChatOutcome& outcome) {
  if (std::string_view(stop_reason(outcome)) == "stop_sequence") return *outcome.stop_sequence;
  return nullptr;
}

// Anthropic counts cached prompt tokens apart: input_tokens + cache_read_input_tokens is the prompt.
json usage_json(const ChatUsage& usage) {
  const int64_t cached =
      std::clamp<int64_t>(usage.cached_prompt_tokens, 0, std::max<int64_t>(usage.prompt_tokens, 0));
  json out;
  out["input_tokens"] = std::max<int64_t>(usage.prompt_tokens, 0) - cached;
  out["cache_creation_input_tokens"] = 0;
  out["cache_read_input_tokens"] = cached;
  out["output_tokens"] = usage.completion_tokens;
  return out;
}

// A tool call's arguments as tool_use `input`, which must be an object. The parser already makes
// them an object whenever the model wrote valid JSON; anything else has no faithful object form.
json tool_input(const std::string& arguments) {
  json parsed = json::parse(arguments, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return json::object();
  return parsed;
}

json text_block(const std::string& text) {
  json block;
  block["type"] = "text";
  block["text"] = text;
  return block;
}

json thinking_block(const std::string& thinking) {
  json block;
  block["type"] = "thinking";
  block["thinking"] = thinking;
  block["signature"] = "";  // our reasoning is not signed; the field is required by the clients' types
  return block;
}

json tool_use_block(const std::string& name, json input) {
  json block;
  block["type"] = "tool_use";
  block["id"] = random_id("toolu_");
  block["name"] = name;
  block["input"] = std::move(input);
  return block;
}

std::string sse(const char* event, const json& data) {
  return fmt::format("event: {}\ndata: {}\n\n", event, compact(data));
}

json typed(const char* type) {
  json data;
  data["type"] = type;
  return data;
}

}  // namespace

Result<nlohmann::ordered_json> anthropic_to_chat_body(const nlohmann::ordered_json& body) {
  return translate_request(body, /*max_tokens_required=*/true);
}

Result<nlohmann::ordered_json> anthropic_count_tokens_body(const nlohmann::ordered_json& body) {
  return translate_request(body, /*max_tokens_required=*/false);
}

std::string anthropic_count_tokens_json(int64_t input_tokens) {
  json out;
  out["input_tokens"] = input_tokens;
  return compact(out);
}

std::string anthropic_error_body(const std::string& type, const std::string& message) {
  json error;
  error["type"] = type;
  error["message"] = message;
  json body = typed("error");
  body["error"] = std::move(error);
  return compact(body);
}

const char* anthropic_error_type(int http_status) {
  switch (http_status) {
    case 400:
    case 422:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    case 504:
      return "timeout_error";
    case 424:
      return "api_error";  // TGI's "failed during generation": the server's fault, not the request's
    default:
      return http_status >= 400 && http_status < 500 ? "invalid_request_error" : "api_error";
  }
}

std::string anthropic_message_json(const std::string& model, const ChatOutcome& outcome) {
  const chat::AssistantOutput& output = outcome.output;
  json content = json::array();
  if (!output.reasoning.empty()) content.push_back(thinking_block(output.reasoning));
  if (!output.content.empty()) content.push_back(text_block(output.content));
  for (const chat::ParsedToolCall& call : output.tool_calls)
    content.push_back(tool_use_block(call.name, tool_input(call.arguments)));
  // Clients commonly read content[0] unguarded; an empty answer is an empty text block.
  if (content.empty()) content.push_back(text_block(""));
  json message;
  message["id"] = random_id("msg_");
  message["type"] = "message";
  message["role"] = "assistant";
  message["model"] = model;
  message["content"] = std::move(content);
  message["stop_reason"] = stop_reason(outcome);
  message["stop_sequence"] = stop_sequence(outcome);
  message["usage"] = usage_json(outcome.usage);
  return compact(message);
}

AnthropicStreamWriter::AnthropicStreamWriter(std::string model, int64_t prompt_tokens)
    : model_(std::move(model)), prompt_tokens_(prompt_tokens), message_id_(random_id("msg_")) {}

std::string AnthropicStreamWriter::begin() {
  json message;
  message["id"] = message_id_;
  message["type"] = "message";
  message["role"] = "assistant";
  message["model"] = model_;
  message["content"] = json::array();
  message["stop_reason"] = nullptr;
  message["stop_sequence"] = nullptr;
  // Which prompt tokens were cached is known only at the end; message_delta's usage corrects it.
  message["usage"] = usage_json(ChatUsage{prompt_tokens_, 0, 0});
  json start = typed("message_start");
  start["message"] = std::move(message);
  return sse("message_start", start) + sse("ping", typed("ping"));
}

std::string AnthropicStreamWriter::open_block(BlockKind kind, const std::string& tool_name) {
  std::string out = close_open_block();
  json block;
  switch (kind) {
    case BlockKind::kThinking:
      block = thinking_block("");
      break;
    case BlockKind::kText:
      block = text_block("");
      break;
    case BlockKind::kToolUse:
      block = tool_use_block(tool_name, json::object());
      break;
    case BlockKind::kNone:
      return out;
  }
  open_kind_ = kind;
  open_index_ = next_index_++;
  json start = typed("content_block_start");
  start["index"] = open_index_;
  start["content_block"] = std::move(block);
  return out + sse("content_block_start", start);
}

std::string AnthropicStreamWriter::close_open_block() {
  if (open_kind_ == BlockKind::kNone) return "";
  std::string out;
  if (open_kind_ == BlockKind::kThinking) {
    // Anthropic ends every thinking block with its signature; clients that wait for it to treat
    // the thinking as complete get an empty one.
    json signature = typed("signature_delta");
    signature["signature"] = "";
    json delta = typed("content_block_delta");
    delta["index"] = open_index_;
    delta["delta"] = std::move(signature);
    out += sse("content_block_delta", delta);
  }
  json stop = typed("content_block_stop");
  stop["index"] = open_index_;
  open_kind_ = BlockKind::kNone;
  return out + sse("content_block_stop", stop);
}

std::string AnthropicStreamWriter::delta(const chat::OutputDelta& delta) {
  if (finished_) return "";
  using Kind = chat::OutputDelta::Kind;
  std::string out;
  json payload;
  int64_t index = open_index_;
  switch (delta.kind) {
    case Kind::kContent:
    case Kind::kReasoning: {
      if (delta.text.empty()) return "";
      const bool reasoning = delta.kind == Kind::kReasoning;
      const BlockKind kind = reasoning ? BlockKind::kThinking : BlockKind::kText;
      if (open_kind_ != kind) out += open_block(kind, "");
      index = open_index_;
      payload = typed(reasoning ? "thinking_delta" : "text_delta");
      payload[reasoning ? "thinking" : "text"] = delta.text;
      break;
    }
    case Kind::kToolCallStart:
      out += open_block(BlockKind::kToolUse, delta.text);
      tool_block_index_[delta.tool_index] = open_index_;
      return out;
    case Kind::kToolCallArguments: {
      if (delta.text.empty()) return "";
      auto known = tool_block_index_.find(delta.tool_index);
      if (known == tool_block_index_.end()) {
        // The parser promises a start first; without one, keep the arguments under a nameless call
        // rather than lose them.
        out += open_block(BlockKind::kToolUse, "");
        known = tool_block_index_.emplace(delta.tool_index, open_index_).first;
      }
      // Fragments go to their call's block even if another block opened since: the clients
      // accumulate deltas by index.
      index = known->second;
      payload = typed("input_json_delta");
      payload["partial_json"] = delta.text;
      break;
    }
  }
  json event = typed("content_block_delta");
  event["index"] = index;
  event["delta"] = std::move(payload);
  return out + sse("content_block_delta", event);
}

std::string AnthropicStreamWriter::end(const ChatOutcome& outcome) {
  if (finished_) return "";
  finished_ = true;
  std::string out = close_open_block();
  // Like the non-streaming body, the final message holds at least an (empty) text block.
  if (next_index_ == 0) {
    out += open_block(BlockKind::kText, "");
    out += close_open_block();
  }
  json delta;
  delta["stop_reason"] = stop_reason(outcome);
  delta["stop_sequence"] = stop_sequence(outcome);
  json message_delta = typed("message_delta");
  message_delta["delta"] = std::move(delta);
  message_delta["usage"] = usage_json(outcome.usage);
  return out + sse("message_delta", message_delta) + sse("message_stop", typed("message_stop"));
}

std::string AnthropicStreamWriter::error(const std::string& message) {
  if (finished_) return "";
  finished_ = true;
  return "event: error\ndata: " + anthropic_error_body("api_error", message) + "\n\n";
}

}  // namespace tgi::server
