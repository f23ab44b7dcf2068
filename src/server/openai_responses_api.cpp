#include "server/openai_responses_api.h"

#include <limits>
#include <utility>

#include <fmt/format.h>

namespace tgi::server {

namespace {

using json = nlohmann::ordered_json;
using ItemKind = ResponsesOutputItem::Kind;

constexpr const char* kNoResponseState = "not supported: this server keeps no response state";
constexpr size_t kNoItem = std::numeric_limits<size_t>::max();

Error field_error(const std::string& path, const std::string& reason) {
  return Error{ErrorKind::kInvalidArgument, fmt::format("{}: {}", path, reason)};
}

Error wrong_type(const std::string& path, const char* expected, const json& value) {
  return field_error(path, fmt::format("expected {}, got {}", expected, value.type_name()));
}

// The field's value, or nullptr when it is missing or null: the SDK sends null for "not set".
const json* present(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string join(const std::string& path, const char* name) {
  return path + "." + name;
}
std::string index(const std::string& path, size_t i) {
  return fmt::format("{}[{}]", path, i);
}

Result<std::string> required_string(const json& object, const std::string& path, const char* name) {
  const json* value = present(object, name);
  if (value == nullptr) return field_error(join(path, name), "missing");
  if (!value->is_string()) return wrong_type(join(path, name), "a string", *value);
  return value->get<std::string>();
}

// Text parts only: the chat pipeline feeds a text model, so images, files and audio would be lost.
Result<json> chat_content(const json& content, const std::string& path) {
  if (content.is_string()) return content;
  if (!content.is_array()) return wrong_type(path, "a string or a list of content parts", content);
  // Parts stay parts so the chat parser applies its own joining rule, as for a chat request.
  json parts = json::array();
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string part_path = index(path, i);
    const json& part = content[i];
    if (!part.is_object()) return wrong_type(part_path, "a content part object", part);
    TGI_ASSIGN_OR_RETURN(std::string type, required_string(part, part_path, "type"));
    std::string text;
    if (type == "input_text" || type == "output_text") {
      TGI_ASSIGN_OR_RETURN(text, required_string(part, part_path, "text"));
    } else if (type == "refusal") {
      TGI_ASSIGN_OR_RETURN(text, required_string(part, part_path, "refusal"));
    } else if (type == "input_image" || type == "input_file" || type == "input_audio") {
      return field_error(part_path,
                         fmt::format("`{}` parts are not supported: this server reads text only", type));
    } else {
      return field_error(join(part_path, "type"), fmt::format("unknown content part type `{}`", type));
    }
    parts.push_back(json{{"type", "text"}, {"text", std::move(text)}});
  }
  return parts;
}

Result<json> chat_message(const json& item, const std::string& path) {
  // `developer` stays: the chat pipeline gives it to templates that know it, else as `system`.
  TGI_ASSIGN_OR_RETURN(std::string role, required_string(item, path, "role"));
  if (role != "user" && role != "assistant" && role != "system" && role != "developer") {
    return field_error(join(path, "role"),
                       fmt::format("unknown role `{}`, expected user, assistant, system or developer", role));
  }
  const json* content = present(item, "content");
  if (content == nullptr) return field_error(join(path, "content"), "missing");
  TGI_ASSIGN_OR_RETURN(json chat_text, chat_content(*content, join(path, "content")));
  return json{{"role", role}, {"content", std::move(chat_text)}};
}

Result<json> chat_tool_call(const json& item, const std::string& path) {
  TGI_ASSIGN_OR_RETURN(std::string call_id, required_string(item, path, "call_id"));
  TGI_ASSIGN_OR_RETURN(std::string name, required_string(item, path, "name"));
  TGI_ASSIGN_OR_RETURN(std::string arguments, required_string(item, path, "arguments"));
  // Templates receive arguments as a mapping, so they must be a JSON object; a call that took no
  // arguments may come back from a client as "".
  if (arguments.find_first_not_of(" \t\r\n") == std::string::npos) arguments = "{}";
  const json parsed = json::parse(arguments, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    return field_error(join(path, "arguments"), "expected a JSON object as text");
  return json{{"id", std::move(call_id)},
              {"type", "function"},
              {"function", {{"name", std::move(name)}, {"arguments", std::move(arguments)}}}};
}

Result<json> chat_tool_result(const json& item, const std::string& path) {
  TGI_ASSIGN_OR_RETURN(std::string call_id, required_string(item, path, "call_id"));
  const json* output = present(item, "output");
  if (output == nullptr) return field_error(join(path, "output"), "missing");
  TGI_ASSIGN_OR_RETURN(json content, chat_content(*output, join(path, "output")));
  return json{{"role", "tool"}, {"tool_call_id", std::move(call_id)}, {"content", std::move(content)}};
}

Result<void> append_input(const json& input, json& messages) {
  if (input.is_string()) {
    messages.push_back(json{{"role", "user"}, {"content", input}});
    return {};
  }
  if (!input.is_array()) return wrong_type("input", "a string or a list of items", input);
  // Consecutive function calls are one assistant turn in chat form (parallel calls).
  bool last_message_holds_calls = false;
  for (size_t i = 0; i < input.size(); ++i) {
    const std::string path = index("input", i);
    const json& item = input[i];
    if (!item.is_object()) return wrong_type(path, "an input item object", item);
    std::string type = "message";  // EasyInputMessage may leave out its type
    if (const json* given = present(item, "type")) {
      if (!given->is_string()) return wrong_type(join(path, "type"), "a string", *given);
      type = given->get<std::string>();
    }
    if (type == "message") {
      TGI_ASSIGN_OR_RETURN(json message, chat_message(item, path));
      messages.push_back(std::move(message));
      last_message_holds_calls = false;
    } else if (type == "function_call") {
      TGI_ASSIGN_OR_RETURN(json call, chat_tool_call(item, path));
      if (last_message_holds_calls) {
        messages.back()["tool_calls"].push_back(std::move(call));
      } else {
        messages.push_back(json{{"role", "assistant"}, {"tool_calls", json::array({std::move(call)})}});
        last_message_holds_calls = true;
      }
    } else if (type == "function_call_output") {
      TGI_ASSIGN_OR_RETURN(json result, chat_tool_result(item, path));
      messages.push_back(std::move(result));
      last_message_holds_calls = false;
    } else if (type == "reasoning") {
      // Earlier reasoning is not part of a chat prompt (templates drop past thinking too); it
      // does not end a run of calls, since reasoning models interleave it with them.
    } else if (type == "item_reference") {
      return field_error(path, fmt::format("`item_reference` items are {}", kNoResponseState));
    } else {
      return field_error(join(path, "type"),
                         fmt::format("`{}` items are not supported: this server takes messages, function "
                                     "calls and function call outputs",
                                     type));
    }
  }
  return {};
}

Result<json> chat_tools(const json& tools) {
  if (!tools.is_array()) return wrong_type("tools", "a list of tools", tools);
  json out = json::array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string path = index("tools", i);
    const json& tool = tools[i];
    if (!tool.is_object()) return wrong_type(path, "a tool object", tool);
    TGI_ASSIGN_OR_RETURN(std::string type, required_string(tool, path, "type"));
    if (type != "function")
      return field_error(
          join(path, "type"),
          fmt::format("`{}` tools are not supported: this server runs function tools only", type));
    json function;
    TGI_ASSIGN_OR_RETURN(function["name"], required_string(tool, path, "name"));
    if (function["name"].get_ref<const std::string&>().empty())
      return field_error(join(path, "name"), "empty");
    if (const json* description = present(tool, "description")) {
      if (!description->is_string()) return wrong_type(join(path, "description"), "a string", *description);
      function["description"] = *description;
    }
    // A function without parameters takes none; the chat parser needs a schema either way.
    json parameters = json{{"type", "object"}, {"properties", json::object()}};
    if (const json* given = present(tool, "parameters")) {
      if (!given->is_object()) return wrong_type(join(path, "parameters"), "a JSON schema object", *given);
      parameters = *given;
    }
    function["parameters"] = std::move(parameters);
    if (const json* strict = present(tool, "strict")) {
      if (!strict->is_boolean()) return wrong_type(join(path, "strict"), "a boolean", *strict);
      function["strict"] = *strict;
    }
    out.push_back(json{{"type", "function"}, {"function", std::move(function)}});
  }
  return out;
}

Result<json> chat_tool_choice(const json& choice) {
  if (choice.is_string()) {
    const std::string mode = choice.get<std::string>();
    if (mode != "auto" && mode != "none" && mode != "required")
      return field_error("tool_choice",
                         fmt::format("unknown mode `{}`, expected auto, none or required", mode));
    return choice;
  }
  if (!choice.is_object()) return wrong_type("tool_choice", "a string or an object", choice);
  TGI_ASSIGN_OR_RETURN(std::string type, required_string(choice, "tool_choice", "type"));
  if (type != "function")
    return field_error("tool_choice.type",
                       fmt::format("`{}` is not supported: this server runs function tools only", type));
  TGI_ASSIGN_OR_RETURN(std::string name, required_string(choice, "tool_choice", "name"));
  return json{{"type", "function"}, {"function", {{"name", std::move(name)}}}};
}

// text.format → chat response_format; plain text needs none.
Result<std::optional<json>> chat_response_format(const json& text) {
  if (!text.is_object()) return wrong_type("text", "an object", text);
  const json* format = present(text, "format");
  if (format == nullptr) return std::optional<json>();
  if (!format->is_object()) return wrong_type("text.format", "an object", *format);
  TGI_ASSIGN_OR_RETURN(std::string type, required_string(*format, "text.format", "type"));
  if (type == "text") return std::optional<json>();
  if (type == "json_object") return std::optional<json>(json{{"type", "json_object"}});
  if (type != "json_schema")
    return field_error("text.format.type",
                       fmt::format("unknown format `{}`, expected text, json_object or json_schema", type));
  json schema_spec;
  TGI_ASSIGN_OR_RETURN(schema_spec["name"], required_string(*format, "text.format", "name"));
  if (const json* description = present(*format, "description")) {
    if (!description->is_string()) return wrong_type("text.format.description", "a string", *description);
    schema_spec["description"] = *description;
  }
  const json* schema = present(*format, "schema");
  if (schema == nullptr) return field_error("text.format.schema", "missing");
  if (!schema->is_object()) return wrong_type("text.format.schema", "a JSON schema object", *schema);
  schema_spec["schema"] = *schema;
  if (const json* strict = present(*format, "strict")) {
    if (!strict->is_boolean()) return wrong_type("text.format.strict", "a boolean", *strict);
    schema_spec["strict"] = *strict;
  }
  return std::optional<json>(json{{"type", "json_schema"}, {"json_schema", std::move(schema_spec)}});
}

// The chat side knows none, minimal, low, medium and high (what reasoning templates take); the
// Responses API's higher levels ask for the most there is.
Result<std::string> chat_reasoning_effort(const std::string& effort) {
  if (effort == "xhigh" || effort == "max") return std::string("high");
  for (const char* known : {"none", "minimal", "low", "medium", "high"})
    if (effort == known) return effort;
  return field_error(
      "reasoning.effort",
      fmt::format("unknown effort `{}`, expected none, minimal, low, medium, high, xhigh or max", effort));
}

Result<void> copy_number(const json& body, const char* name, json& chat) {
  const json* value = present(body, name);
  if (value == nullptr) return {};
  if (!value->is_number()) return wrong_type(name, "a number", *value);
  chat[name] = *value;
  return {};
}

Result<std::optional<bool>> read_bool(const json& body, const char* name) {
  const json* value = present(body, name);
  if (value == nullptr) return std::optional<bool>();
  if (!value->is_boolean()) return wrong_type(name, "a boolean", *value);
  return std::optional<bool>(value->get<bool>());
}

// The request settings a Response echoes, and what they are when the request leaves them out.
json echo_defaults() {
  json defaults;
  defaults["instructions"] = nullptr;
  defaults["max_output_tokens"] = nullptr;
  defaults["parallel_tool_calls"] = true;
  defaults["reasoning"] = json{{"effort", nullptr}, {"summary", nullptr}};
  defaults["temperature"] = 1.0;  // the sampler's defaults when a request names neither
  defaults["text"] = json{{"format", {{"type", "text"}}}};
  defaults["tool_choice"] = "auto";
  defaults["tools"] = json::array();
  defaults["top_p"] = 1.0;
  defaults["metadata"] = json::object();
  return defaults;
}

// The SDK types make a function tool's description, parameters and strict present (maybe null).
json echoed_tool(const json& tool) {
  if (!tool.is_object() || tool.value("type", json()) != "function") return tool;
  json out;
  out["type"] = "function";
  out["name"] = tool.value("name", json());
  out["description"] = tool.value("description", json());
  out["parameters"] = tool.value("parameters", json());
  out["strict"] = tool.value("strict", json());
  return out;
}

std::string dump_json(const json& value) {
  // Model text may hold invalid UTF-8; replacing it beats failing the response.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json output_text_part(const std::string& text) {
  return json{
      {"type", "output_text"}, {"text", text}, {"annotations", json::array()}, {"logprobs", json::array()}};
}

json reasoning_text_part(const std::string& text) {
  return json{{"type", "reasoning_text"}, {"text", text}};
}

// The item as output_item.added carries it: nothing said yet.
json added_item_json(const ResponsesOutputItem& item) {
  switch (item.kind) {
    case ItemKind::kReasoning:
      return json{
          {"type", "reasoning"}, {"id", item.id}, {"summary", json::array()}, {"content", json::array()}};
    case ItemKind::kMessage:
      return json{{"type", "message"},
                  {"id", item.id},
                  {"status", "in_progress"},
                  {"role", "assistant"},
                  {"content", json::array()}};
    case ItemKind::kFunctionCall:
      return json{{"type", "function_call"}, {"id", item.id},   {"call_id", item.call_id},
                  {"name", item.name},       {"arguments", ""}, {"status", "in_progress"}};
  }
  return json::object();
}

json usage_json(const ChatUsage& usage) {
  json out;
  out["input_tokens"] = usage.prompt_tokens;
  out["input_tokens_details"] =
      json{{"cached_tokens", usage.cached_prompt_tokens}, {"cache_write_tokens", 0}};
  out["output_tokens"] = usage.completion_tokens;
  // The parser splits text, not tokens, so how many tokens were thinking is unknown.
  out["output_tokens_details"] = json{{"reasoning_tokens", 0}};
  out["total_tokens"] = usage.prompt_tokens + usage.completion_tokens;
  return out;
}

bool is_incomplete(const ChatOutcome& outcome) {
  return outcome.finish_reason == engine::FinishReason::kLength;
}

// Fields in the order OpenAI writes them; those a stateless server fixes are constants.
json response_json(const ResponsesContext& context, const char* status, json incomplete_details, json output,
                   json usage) {
  const json defaults = echo_defaults();
  const json& echo = context.request_echo;
  auto echoed = [&](const char* key) -> json {
    if (echo.is_object()) {
      auto it = echo.find(key);
      if (it != echo.end()) return *it;
    }
    return defaults[key];
  };
  json out;
  out["id"] = context.id;
  out["object"] = "response";
  out["created_at"] = context.created_at;
  out["status"] = status;
  out["background"] = false;
  out["error"] = nullptr;
  out["incomplete_details"] = std::move(incomplete_details);
  out["instructions"] = echoed("instructions");
  out["max_output_tokens"] = echoed("max_output_tokens");
  out["model"] = context.model;
  out["output"] = std::move(output);
  out["parallel_tool_calls"] = echoed("parallel_tool_calls");
  out["previous_response_id"] = nullptr;
  out["reasoning"] = echoed("reasoning");
  out["store"] = false;
  out["temperature"] = echoed("temperature");
  out["text"] = echoed("text");
  out["tool_choice"] = echoed("tool_choice");
  out["tools"] = echoed("tools");
  out["top_p"] = echoed("top_p");
  out["truncation"] = "disabled";
  out["usage"] = std::move(usage);
  out["metadata"] = echoed("metadata");
  return out;
}

json finished_response_json(const ResponsesContext& context, const std::vector<ResponsesOutputItem>& items,
                            const ChatOutcome& outcome) {
  json output = json::array();
  for (const auto& item : items) output.push_back(responses_output_item_json(item));
  const bool incomplete = is_incomplete(outcome);
  return response_json(context, incomplete ? "incomplete" : "completed",
                       incomplete ? json{{"reason", "max_output_tokens"}} : json(nullptr), std::move(output),
                       usage_json(outcome.usage));
}

ResponsesOutputItem new_item(ItemKind kind, std::string name) {
  ResponsesOutputItem item;
  item.kind = kind;
  switch (kind) {
    case ItemKind::kReasoning:
      item.id = random_id("rs_");
      break;
    case ItemKind::kMessage:
      item.id = random_id("msg_");
      break;
    case ItemKind::kFunctionCall:
      item.id = random_id("fc_");
      item.call_id = random_id("call_");
      item.name = std::move(name);
      break;
  }
  return item;
}

bool extends(const std::string& longer, const std::string& prefix) {
  return longer.size() > prefix.size() && longer.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

Result<json> responses_to_chat_body(const json& body) {
  if (!body.is_object()) return wrong_type("body", "a JSON object", body);
  for (const char* stateful : {"previous_response_id", "conversation"})
    if (present(body, stateful) != nullptr) return field_error(stateful, kNoResponseState);
  TGI_ASSIGN_OR_RETURN(std::optional<bool> background, read_bool(body, "background"));
  if (background.value_or(false)) return field_error("background", kNoResponseState);
  if (present(body, "prompt") != nullptr)
    return field_error("prompt", "not supported: this server keeps no stored prompt templates");

  json chat = json::object();
  if (const json* model = present(body, "model")) {
    if (!model->is_string()) return wrong_type("model", "a string", *model);
    chat["model"] = *model;
  }
  json messages = json::array();
  if (const json* instructions = present(body, "instructions")) {
    if (!instructions->is_string()) return wrong_type("instructions", "a string", *instructions);
    messages.push_back(json{{"role", "system"}, {"content", *instructions}});
  }
  const json* input = present(body, "input");
  if (input == nullptr) return field_error("input", "missing");
  TGI_TRY(append_input(*input, messages));
  if (messages.empty()) return field_error("input", "holds no message to answer");
  chat["messages"] = std::move(messages);

  if (const json* tools = present(body, "tools")) {
    TGI_ASSIGN_OR_RETURN(json chat_tool_list, chat_tools(*tools));
    if (!chat_tool_list.empty()) chat["tools"] = std::move(chat_tool_list);
  }
  if (const json* choice = present(body, "tool_choice")) {
    TGI_ASSIGN_OR_RETURN(chat["tool_choice"], chat_tool_choice(*choice));
  }
  TGI_ASSIGN_OR_RETURN(std::optional<bool> parallel, read_bool(body, "parallel_tool_calls"));
  if (parallel) chat["parallel_tool_calls"] = *parallel;
  if (const json* limit = present(body, "max_output_tokens")) {
    if (!limit->is_number_unsigned() || limit->get<uint64_t>() > std::numeric_limits<uint32_t>::max())
      return field_error("max_output_tokens",
                         fmt::format("expected a token count from 0 to {}, got {}",
                                     std::numeric_limits<uint32_t>::max(), dump_json(*limit)));
    chat["max_tokens"] = *limit;
  }
  TGI_TRY(copy_number(body, "temperature", chat));
  TGI_TRY(copy_number(body, "top_p", chat));
  TGI_ASSIGN_OR_RETURN(std::optional<bool> stream, read_bool(body, "stream"));
  if (stream) chat["stream"] = *stream;
  if (const json* text = present(body, "text")) {
    TGI_ASSIGN_OR_RETURN(std::optional<json> format, chat_response_format(*text));
    if (format) chat["response_format"] = std::move(*format);
  }
  if (const json* reasoning = present(body, "reasoning")) {
    if (!reasoning->is_object()) return wrong_type("reasoning", "an object", *reasoning);
    if (const json* effort = present(*reasoning, "effort")) {
      if (!effort->is_string()) return wrong_type("reasoning.effort", "a string", *effort);
      TGI_ASSIGN_OR_RETURN(chat["reasoning_effort"], chat_reasoning_effort(effort->get<std::string>()));
    }
  }
  // store, metadata, user, truncation, include, service_tier and the rest change nothing here:
  // nothing is stored, and the prompt is never truncated silently.
  return chat;
}

json responses_request_echo(const json& body) {
  json echo = echo_defaults();
  if (!body.is_object()) return echo;
  for (auto& [key, value] : echo.items())
    if (const json* given = present(body, key.c_str())) value = *given;
  if (echo["tools"].is_array())
    for (json& tool : echo["tools"]) tool = echoed_tool(tool);
  // The SDK reads text.format to parse structured output; a text config without one is plain text.
  if (echo["text"].is_object() && present(echo["text"], "format") == nullptr)
    echo["text"]["format"] = json{{"type", "text"}};
  return echo;
}

ResponsesContext make_responses_context(const json& body, std::string model, int64_t created_at) {
  ResponsesContext context;
  context.id = random_id("resp_");
  context.model = std::move(model);
  context.created_at = created_at;
  context.request_echo = responses_request_echo(body);
  return context;
}

std::vector<ResponsesOutputItem> responses_output_items(const ChatOutcome& outcome) {
  std::vector<ResponsesOutputItem> items;
  const chat::AssistantOutput& output = outcome.output;
  if (!output.reasoning.empty()) {
    items.push_back(new_item(ItemKind::kReasoning, ""));
    items.back().text = output.reasoning;
  }
  if (!output.content.empty()) {
    items.push_back(new_item(ItemKind::kMessage, ""));
    items.back().text = output.content;
  }
  for (const auto& call : output.tool_calls) {
    items.push_back(new_item(ItemKind::kFunctionCall, call.name));
    items.back().text = call.arguments;
  }
  // The length limit cut the item being written, which is the last one.
  if (is_incomplete(outcome) && !items.empty()) items.back().status = "incomplete";
  return items;
}

json responses_output_item_json(const ResponsesOutputItem& item) {
  switch (item.kind) {
    case ItemKind::kReasoning:
      return json{{"type", "reasoning"},
                  {"id", item.id},
                  {"summary", json::array()},
                  {"content", json::array({reasoning_text_part(item.text)})}};
    case ItemKind::kMessage:
      return json{{"type", "message"},
                  {"id", item.id},
                  {"status", item.status},
                  {"role", "assistant"},
                  {"content", json::array({output_text_part(item.text)})}};
    case ItemKind::kFunctionCall:
      return json{{"type", "function_call"}, {"id", item.id},          {"call_id", item.call_id},
                  {"name", item.name},       {"arguments", item.text}, {"status", item.status}};
  }
  return json::object();
}

json responses_object(const ResponsesContext& context, const ChatOutcome& outcome) {
  return finished_response_json(context, responses_output_items(outcome), outcome);
}

std::string responses_object_json(const ResponsesContext& context, const ChatOutcome& outcome) {
  return dump_json(responses_object(context, outcome));
}

json responses_in_progress_object(const ResponsesContext& context) {
  return response_json(context, "in_progress", nullptr, json::array(), nullptr);
}

ResponsesStreamWriter::ResponsesStreamWriter(ResponsesContext context) : context_(std::move(context)) {}

std::string ResponsesStreamWriter::event(const char* type, json fields) {
  json out;
  out["type"] = type;
  out["sequence_number"] = sequence_number_++;
  for (auto& [key, value] : fields.items()) out[key] = std::move(value);
  return fmt::format("event: {}\ndata: {}\n\n", type, dump_json(out));
}

std::string ResponsesStreamWriter::begin() {
  if (begun_ || finished_) return "";
  begun_ = true;
  const json response = responses_in_progress_object(context_);
  std::string out = event("response.created", json{{"response", response}});
  out += event("response.in_progress", json{{"response", response}});
  return out;
}

std::string ResponsesStreamWriter::delta(const chat::OutputDelta& delta) {
  if (finished_) return "";
  std::string out = begin();
  switch (delta.kind) {
    case chat::OutputDelta::Kind::kReasoning:
      out += append_text(ItemKind::kReasoning, delta.text);
      break;
    case chat::OutputDelta::Kind::kContent:
      out += append_text(ItemKind::kMessage, delta.text);
      break;
    case chat::OutputDelta::Kind::kToolCallStart:
      out += start_call(delta.tool_index, delta.text);
      break;
    case chat::OutputDelta::Kind::kToolCallArguments:
      out += append_arguments(delta.tool_index, delta.text);
      break;
  }
  return out;
}

std::string ResponsesStreamWriter::open_item(ItemKind kind, const std::string& name) {
  items_.push_back(new_item(kind, name));
  items_.back().status = "in_progress";
  const size_t output_index = items_.size() - 1;
  open_item_ = output_index;
  const ResponsesOutputItem& item = items_.back();
  std::string out = event("response.output_item.added",
                          json{{"output_index", output_index}, {"item", added_item_json(item)}});
  if (kind == ItemKind::kFunctionCall) return out;
  const json part = kind == ItemKind::kReasoning ? reasoning_text_part("") : output_text_part("");
  out +=
      event("response.content_part.added",
            json{{"item_id", item.id}, {"output_index", output_index}, {"content_index", 0}, {"part", part}});
  return out;
}

std::string ResponsesStreamWriter::close_open_item(const std::string& status) {
  if (!open_item_) return "";
  const size_t output_index = *open_item_;
  open_item_.reset();
  ResponsesOutputItem& item = items_[output_index];
  item.status = status;
  std::string out;
  switch (item.kind) {
    case ItemKind::kReasoning:
      out += event("response.reasoning_text.done", json{{"item_id", item.id},
                                                        {"output_index", output_index},
                                                        {"content_index", 0},
                                                        {"text", item.text}});
      out += event("response.content_part.done", json{{"item_id", item.id},
                                                      {"output_index", output_index},
                                                      {"content_index", 0},
                                                      {"part", reasoning_text_part(item.text)}});
      break;
    case ItemKind::kMessage:
      out += event("response.output_text.done", json{{"item_id", item.id},
                                                     {"output_index", output_index},
                                                     {"content_index", 0},
                                                     {"text", item.text},
                                                     {"logprobs", json::array()}});
      out += event("response.content_part.done", json{{"item_id", item.id},
                                                      {"output_index", output_index},
                                                      {"content_index", 0},
                                                      {"part", output_text_part(item.text)}});
      break;
    case ItemKind::kFunctionCall:
      out += event("response.function_call_arguments.done", json{{"item_id", item.id},
                                                                 {"output_index", output_index},
                                                                 {"name", item.name},
                                                                 {"arguments", item.text}});
      break;
  }
  out += event("response.output_item.done",
               json{{"output_index", output_index}, {"item", responses_output_item_json(item)}});
  return out;
}

std::string ResponsesStreamWriter::append_text(ItemKind kind, const std::string& text) {
  if (text.empty()) return "";
  std::string out;
  if (!open_item_ || items_[*open_item_].kind != kind) {
    out += close_open_item("completed");
    out += open_item(kind, "");
  }
  const size_t output_index = *open_item_;
  ResponsesOutputItem& item = items_[output_index];
  item.text += text;
  if (kind == ItemKind::kReasoning) {
    out += event(
        "response.reasoning_text.delta",
        json{{"item_id", item.id}, {"output_index", output_index}, {"content_index", 0}, {"delta", text}});
  } else {
    out += event("response.output_text.delta", json{{"item_id", item.id},
                                                    {"output_index", output_index},
                                                    {"content_index", 0},
                                                    {"delta", text},
                                                    {"logprobs", json::array()}});
  }
  return out;
}

std::string ResponsesStreamWriter::start_call(size_t tool_index, const std::string& name) {
  if (tool_index < call_items_.size() && call_items_[tool_index] != kNoItem) return "";  // started already
  std::string out = close_open_item("completed");
  out += open_item(ItemKind::kFunctionCall, name);
  if (call_items_.size() <= tool_index) call_items_.resize(tool_index + 1, kNoItem);
  call_items_[tool_index] = *open_item_;
  return out;
}

std::string ResponsesStreamWriter::append_arguments(size_t tool_index, const std::string& fragment) {
  if (fragment.empty()) return "";
  std::string out;
  // Fragments come after their call's start; a parser that skipped the start still loses nothing.
  if (tool_index >= call_items_.size() || call_items_[tool_index] == kNoItem)
    out += start_call(tool_index, "");
  const size_t output_index = call_items_[tool_index];
  ResponsesOutputItem& item = items_[output_index];
  item.text += fragment;
  // A fragment for a call already closed still goes out: the accumulator appends it to the item,
  // and response.completed carries the whole call either way.
  out += event("response.function_call_arguments.delta",
               json{{"item_id", item.id}, {"output_index", output_index}, {"delta", fragment}});
  return out;
}

std::string ResponsesStreamWriter::streamed_text(ItemKind kind) const {
  std::string text;
  for (const auto& item : items_)
    if (item.kind == kind) text += item.text;
  return text;
}

std::string ResponsesStreamWriter::end(const ChatOutcome& outcome) {
  if (finished_) return "";
  std::string out = begin();
  const chat::AssistantOutput& output = outcome.output;
  const std::string reasoning = streamed_text(ItemKind::kReasoning);
  if (extends(output.reasoning, reasoning))
    out += append_text(ItemKind::kReasoning, output.reasoning.substr(reasoning.size()));
  const std::string content = streamed_text(ItemKind::kMessage);
  if (extends(output.content, content))
    out += append_text(ItemKind::kMessage, output.content.substr(content.size()));
  for (size_t i = 0; i < output.tool_calls.size(); ++i) {
    const chat::ParsedToolCall& call = output.tool_calls[i];
    if (i >= call_items_.size() || call_items_[i] == kNoItem) out += start_call(i, call.name);
    ResponsesOutputItem& item = items_[call_items_[i]];
    if (item.name.empty()) item.name = call.name;  // a call whose fragments came before its start
    if (extends(call.arguments, item.text)) {
      out += append_arguments(i, call.arguments.substr(item.text.size()));
    } else {
      item.text = call.arguments;  // the parser's final form (compact JSON) is what clients should parse
    }
  }
  const bool incomplete = is_incomplete(outcome);
  out += close_open_item(incomplete ? "incomplete" : "completed");
  finished_ = true;
  out += event(incomplete ? "response.incomplete" : "response.completed",
               json{{"response", finished_response_json(context_, items_, outcome)}});
  return out;
}

std::string ResponsesStreamWriter::error(const std::string& message) {
  if (finished_) return "";
  finished_ = true;
  return event("error", json{{"code", "server_error"}, {"message", message}, {"param", nullptr}});
}

}  // namespace tgi::server
