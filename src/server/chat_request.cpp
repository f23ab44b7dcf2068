#include "server/chat_request.h"

#include <charconv>

#include <fmt/format.h>

#include "grammar/tool_call_grammar.h"
#include "server/json_fields.h"

namespace tgi::server {

namespace {

// `response_format` as chat and completions take it. {"type": "text"} is OpenAI's default (some
// clients always send it): no constraint at all.
Result<std::optional<json>> read_response_format(const json& body) {
  TGI_ASSIGN_OR_RETURN(std::optional<json> format, read_field<json>(body, "", "response_format"));
  if (format && format->is_object() && format->value("type", json()) == "text") format.reset();
  return format;
}

Error tool_error(std::string message) { return Error{ErrorKind::kInvalidArgument, std::move(message)}; }

// Message content → one string (text parts joined, images as markdown, spec §1.9.2).
Result<std::string> flatten_content(const json& content, const std::string& path) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array())
    return shape_error(path, fmt::format("invalid type: {}, expected a string or a sequence of chunks",
                                         describe_json_value(content)));
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& chunk = content[i];
    const std::string chunk_path = fmt::format("{}[{}]", path, i);
    if (!chunk.is_object()) return shape_error(chunk_path, "invalid type: expected a chunk object");
    TGI_ASSIGN_OR_RETURN(std::string type, read_required<std::string>(chunk, chunk_path, "type"));
    if (type == "text") {
      TGI_ASSIGN_OR_RETURN(std::string part, read_required<std::string>(chunk, chunk_path, "text"));
      text += part;
    } else if (type == "image_url") {
      TGI_ASSIGN_OR_RETURN(json image, read_required<json>(chunk, chunk_path, "image_url"));
      if (!image.is_object()) return shape_error(chunk_path + ".image_url", "invalid type: expected a map");
      TGI_ASSIGN_OR_RETURN(std::string url, read_required<std::string>(image, chunk_path + ".image_url", "url"));
      text += "![](" + url + ")";
    } else {
      return shape_error(chunk_path, fmt::format("unknown variant `{}`, expected `text` or `image_url`", type));
    }
  }
  return text;
}

// An assistant message's tool_calls: [{"id": str, "type": str, "function": {"name": str,
// "arguments": any, "description"?: str}}], every field TGI's ToolCall requires.
Result<void> check_tool_calls(const json& calls, const std::string& path) {
  if (!calls.is_array())
    return shape_error(path,
                       fmt::format("invalid type: {}, expected a sequence", describe_json_value(calls)));
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string call_path = fmt::format("{}[{}]", path, i);
    const json& call = calls[i];
    if (!call.is_object())
      return shape_error(
          call_path, fmt::format("invalid type: {}, expected struct ToolCall", describe_json_value(call)));
    TGI_TRY(read_required<std::string>(call, call_path, "id"));
    TGI_TRY(read_required<std::string>(call, call_path, "type"));
    TGI_ASSIGN_OR_RETURN(json function, read_required<json>(call, call_path, "function"));
    const std::string function_path = call_path + ".function";
    if (!function.is_object())
      return shape_error(function_path, fmt::format("invalid type: {}, expected struct FunctionDefinition",
                                                    describe_json_value(function)));
    TGI_TRY(read_required<std::string>(function, function_path, "name"));
    TGI_ASSIGN_OR_RETURN(json arguments, read_required<json>(function, function_path, "arguments"));
    if (arguments.is_string()) {
      const json parsed = json::parse(arguments.get<std::string>(), nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object())
        return shape_error(function_path + ".arguments",
                           "invalid value: the arguments string is not a JSON object");
    } else if (!arguments.is_object()) {
      return shape_error(function_path + ".arguments",
                         fmt::format("invalid type: {}, expected a JSON object or a string holding one",
                                     describe_json_value(arguments)));
    }
    TGI_TRY(read_field<std::string>(function, function_path, "description"));
  }
  return {};
}

// TGI takes `logit_bias` as a list of floats and ignores it; OpenAI's clients send a map from
// token id to bias, which the sampler applies. Anything else is a shape error.
Result<std::vector<std::pair<int32_t, float>>> parse_logit_bias(const json& value) {
  std::vector<std::pair<int32_t, float>> bias;
  if (value.is_null()) return bias;
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i)
      if (!value[i].is_number())
        return shape_error(fmt::format("logit_bias[{}]", i),
                           fmt::format("invalid type: {}, expected f32", describe_json_value(value[i])));
    return bias;
  }
  if (!value.is_object())
    return shape_error("logit_bias",
                       fmt::format("invalid type: {}, expected a sequence or a map of token ids to f32",
                                   describe_json_value(value)));
  for (const auto& [key, item] : value.items()) {
    const std::string path = "logit_bias." + key;
    int32_t token = 0;
    const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), token);
    if (ec != std::errc() || end != key.data() + key.size() || token < 0)
      return shape_error(path,
                         fmt::format("invalid value: string {}, expected a token id", json(key).dump()));
    if (!item.is_number())
      return shape_error(path, fmt::format("invalid type: {}, expected f32", describe_json_value(item)));
    const double v = item.get<double>();
    if (v < -100.0 || v > 100.0)
      return shape_error(path, fmt::format("invalid value: {}, expected a bias from -100 to 100", v));
    bias.emplace_back(token, static_cast<float>(v));
  }
  return bias;
}

bool is_known_role(const std::string& role) {
  // `function` is OpenAI's legacy tool result; `ipython` is Llama 3's name for it.
  for (const char* known : {"system", "developer", "user", "assistant", "tool", "function", "ipython"})
    if (role == known) return true;
  return false;
}

Result<std::vector<ChatTool>> parse_tools(const json& value) {
  if (!value.is_array()) return shape_error("tools", fmt::format("invalid type: {}, expected a sequence",
                                                                  describe_json_value(value)));
  std::vector<ChatTool> tools;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string path = fmt::format("tools[{}]", i);
    const json& tool = value[i];
    if (!tool.is_object())
      return shape_error(path,
                         fmt::format("invalid type: {}, expected struct Tool", describe_json_value(tool)));
    ChatTool parsed;
    TGI_ASSIGN_OR_RETURN(parsed.type, read_required<std::string>(tool, path, "type"));
    TGI_ASSIGN_OR_RETURN(json function, read_required<json>(tool, path, "function"));
    if (!function.is_object())
      return shape_error(
          path + ".function",
          fmt::format("invalid type: {}, expected struct FunctionDefinition", describe_json_value(function)));
    TGI_ASSIGN_OR_RETURN(parsed.name, read_required<std::string>(function, path + ".function", "name"));
    TGI_ASSIGN_OR_RETURN(parsed.description, read_field<std::string>(function, path + ".function", "description"));
    if (parsed.type != "function")
      return shape_error(path + ".type",
                         fmt::format("unknown variant `{}`, expected `function`", parsed.type));
    if (parsed.name.empty())
      return shape_error(path + ".function.name", "invalid value: a tool needs a name");
    if (function.contains("parameters") && !function["parameters"].is_null())
      parsed.parameters = function["parameters"];
    else if (function.contains("arguments") && !function["arguments"].is_null())
      parsed.parameters = function["arguments"];
    else
      parsed.parameters = json{{"type", "object"}, {"properties", json::object()}};  // OpenAI allows none
    if (!parsed.parameters.is_object())
      return shape_error(path + ".function.parameters",
                         fmt::format("invalid type: {}, expected a JSON Schema object",
                                     describe_json_value(parsed.parameters)));
    tools.push_back(std::move(parsed));
  }
  return tools;
}

// The form TGI gives tools to templates and prompts: key `arguments`, parameters as a JSON string.
json tool_for_prompt(const ChatTool& tool) {
  json function;
  function["description"] = tool.description ? json(*tool.description) : json(nullptr);
  function["name"] = tool.name;
  function["arguments"] = tool.parameters.dump();
  json out;
  out["type"] = tool.type;
  out["function"] = std::move(function);
  return out;
}

}  // namespace

Result<ChatRequest> parse_chat_request(const json& body) {
  if (!body.is_object())
    return shape_error("", fmt::format("invalid type: {}, expected struct ChatRequest", describe_json_value(body)));
  ChatRequest r;
  TGI_ASSIGN_OR_RETURN(r.model, read_field<std::string>(body, "", "model"));
  TGI_ASSIGN_OR_RETURN(r.messages, read_required<json>(body, "", "messages"));
  if (!r.messages.is_array())
    return shape_error("messages", fmt::format("invalid type: {}, expected a sequence", describe_json_value(r.messages)));
  for (size_t i = 0; i < r.messages.size(); ++i) {
    const json& m = r.messages[i];
    const std::string path = fmt::format("messages[{}]", i);
    if (!m.is_object()) return shape_error(path, "invalid type: expected struct Message");
    TGI_ASSIGN_OR_RETURN(std::string role, read_required<std::string>(m, path, "role"));
    if (!is_known_role(role))
      return shape_error(path + ".role",
                         fmt::format("unknown variant `{}`, expected one of `system`, `developer`, "
                                     "`user`, `assistant`, `tool`",
                                     role));
    auto content = m.find("content");
    if (content != m.end() && !content->is_null()) {
      TGI_ASSIGN_OR_RETURN(std::string text, flatten_content(*content, path + ".content"));
      (void)text;
    } else if (!m.contains("tool_calls") || m["tool_calls"].is_null()) {
      return shape_error(path, "data did not match any variant of untagged enum MessageBody");
    }
    // Calls beside content are the template's too (text before a call), so they are checked alike.
    if (m.contains("tool_calls") && !m["tool_calls"].is_null())
      TGI_TRY(check_tool_calls(m["tool_calls"], path + ".tool_calls"));
  }
  TGI_ASSIGN_OR_RETURN(r.frequency_penalty, read_field<float>(body, "", "frequency_penalty"));
  TGI_ASSIGN_OR_RETURN(r.presence_penalty, read_field<float>(body, "", "presence_penalty"));
  TGI_ASSIGN_OR_RETURN(auto logprobs, read_field<bool>(body, "", "logprobs"));
  r.logprobs = logprobs.value_or(false);
  TGI_ASSIGN_OR_RETURN(r.top_logprobs, read_field<uint32_t>(body, "", "top_logprobs"));
  TGI_ASSIGN_OR_RETURN(r.max_tokens, read_field<uint32_t>(body, "", "max_tokens"));
  if (!r.max_tokens) {
    TGI_ASSIGN_OR_RETURN(r.max_tokens, read_field<uint32_t>(body, "", "max_completion_tokens"));
  }
  TGI_ASSIGN_OR_RETURN(r.stop, read_field<std::vector<std::string>>(body, "", "stop"));
  TGI_ASSIGN_OR_RETURN(auto stream, read_field<bool>(body, "", "stream", false));
  r.stream = stream.value_or(false);
  TGI_ASSIGN_OR_RETURN(r.seed, read_field<uint64_t>(body, "", "seed"));
  TGI_ASSIGN_OR_RETURN(r.temperature, read_field<float>(body, "", "temperature"));
  TGI_ASSIGN_OR_RETURN(r.top_p, read_field<float>(body, "", "top_p"));
  TGI_ASSIGN_OR_RETURN(auto n, read_field<uint32_t>(body, "", "n"));
  r.n = n.value_or(1);
  if (r.n == 0) return shape_error("n", "invalid value: integer `0`, expected at least one choice");
  TGI_ASSIGN_OR_RETURN(r.top_k, read_field<uint32_t>(body, "", "top_k"));
  TGI_ASSIGN_OR_RETURN(auto parallel, read_field<bool>(body, "", "parallel_tool_calls"));
  r.parallel_tool_calls = parallel.value_or(true);
  if (auto kwargs = body.find("chat_template_kwargs"); kwargs != body.end() && !kwargs->is_null()) {
    if (!kwargs->is_object())
      return shape_error("chat_template_kwargs",
                         fmt::format("invalid type: {}, expected a map", describe_json_value(*kwargs)));
    for (const char* reserved :
         {"messages", "tools", "documents", "add_generation_prompt", "bos_token", "eos_token"})
      if (kwargs->contains(reserved))
        return shape_error(fmt::format("chat_template_kwargs.{}", reserved),
                           "invalid value: this template variable is set by the server");
    r.chat_template_kwargs = *kwargs;
  }
  TGI_ASSIGN_OR_RETURN(r.reasoning_effort, read_field<std::string>(body, "", "reasoning_effort"));
  if (r.reasoning_effort) {
    const std::string& effort = *r.reasoning_effort;
    if (effort != "minimal" && effort != "low" && effort != "medium" && effort != "high" && effort != "none")
      return shape_error(
          "reasoning_effort",
          fmt::format("unknown variant `{}`, expected one of `none`, `minimal`, `low`, `medium`, "
                      "`high`",
                      effort));
    if (!r.chat_template_kwargs.contains("reasoning_effort"))
      r.chat_template_kwargs["reasoning_effort"] = effort;
  }
  if (auto bias = body.find("logit_bias"); bias != body.end()) {
    TGI_ASSIGN_OR_RETURN(r.logit_bias, parse_logit_bias(*bias));
  }
  if (body.contains("tools") && !body["tools"].is_null()) {
    TGI_ASSIGN_OR_RETURN(r.tools, parse_tools(body["tools"]));
  }
  TGI_ASSIGN_OR_RETURN(r.tool_prompt, read_field<std::string>(body, "", "tool_prompt"));
  if (body.contains("tool_choice")) r.tool_choice = body["tool_choice"];
  if (!r.tool_choice.is_null() && !r.tool_choice.is_string() && !r.tool_choice.is_object())
    return shape_error("tool_choice", "data did not match any variant of untagged enum ToolChoice");
  if (r.tool_choice.is_object()) {
    TGI_ASSIGN_OR_RETURN(std::string type, read_required<std::string>(r.tool_choice, "tool_choice", "type"));
    TGI_ASSIGN_OR_RETURN(json function, read_required<json>(r.tool_choice, "tool_choice", "function"));
    if (type != "function" || !function.is_object() || !function.contains("name") || !function["name"].is_string())
      return shape_error("tool_choice", "data did not match any variant of untagged enum ToolChoice");
  }
  TGI_ASSIGN_OR_RETURN(r.response_format, read_response_format(body));
  auto options = body.find("stream_options");
  if (options != body.end()) {
    if (!options->is_object())
      return shape_error("stream_options", fmt::format("invalid type: {}, expected struct StreamOptions",
                                                       describe_json_value(*options)));
    TGI_ASSIGN_OR_RETURN(auto usage, read_field<bool>(*options, "stream_options", "include_usage", false));
    r.include_usage = usage.value_or(false);
  }
  return r;
}

GenerateParameters chat_parameters(const ChatRequest& r) {
  GenerateParameters p;
  if (r.temperature && *r.temperature == 0.0f) {
    p.do_sample = false;
  } else {
    p.do_sample = true;
    p.temperature = r.temperature;
  }
  p.top_p = r.top_p;
  if (r.top_k) p.top_k = static_cast<int32_t>(std::min<uint32_t>(*r.top_k, INT32_MAX));
  p.frequency_penalty = r.frequency_penalty;
  if (r.presence_penalty) p.repetition_penalty = *r.presence_penalty + 2.0f;
  p.max_new_tokens = r.max_tokens;
  p.stop = r.stop.value_or(std::vector<std::string>{});
  p.seed = r.seed;
  p.top_n_tokens = r.top_logprobs;
  p.details = true;
  p.grammar = r.response_format;
  p.logit_bias = r.logit_bias;
  if (r.model && *r.model != "tgi") p.adapter_id = r.model;
  return p;
}

namespace {

// An assistant message's tool_calls as templates expect them: arguments as a mapping (templates
// `tojson` them or iterate their items), as transformers' users pass them and vLLM does too.
json native_tool_calls(const json& calls) {
  json out = json::array();
  for (const json& call : calls) {
    json function = call["function"];
    json& arguments = function["arguments"];
    if (arguments.is_string()) arguments = json::parse(arguments.get<std::string>(), nullptr, false);
    json native = call;
    native["function"] = std::move(function);
    out.push_back(std::move(native));
  }
  return out;
}

// TGI's flattened form: a message without content carries its calls as JSON text.
std::string flattened_tool_calls(const json& calls) {
  json out = json::array();
  for (const json& call : calls) {
    json function = call.value("function", json::object());
    json out_function;
    out_function["description"] = function.value("description", json(nullptr));
    out_function["name"] = function.value("name", json(""));
    const json arguments = function.value("arguments", json(nullptr));
    out_function["arguments"] = arguments.is_string() ? arguments.get<std::string>() : arguments.dump();
    json out_call;
    out_call["id"] = call.value("id", json(""));
    out_call["type"] = call.value("type", json("function"));
    out_call["function"] = std::move(out_function);
    out.push_back(std::move(out_call));
  }
  return out.dump();
}

// The OpenAI tool definition, as clients send it and as templates document it.
json openai_tool(const ChatTool& tool) {
  json function;
  function["name"] = tool.name;
  if (tool.description) function["description"] = *tool.description;
  function["parameters"] = tool.parameters;
  return json{{"type", tool.type}, {"function", std::move(function)}};
}

}  // namespace

Result<ChatPromptPlan> plan_chat_prompt(const ChatRequest& request, const ChatTraits& traits) {
  if (request.response_format && request.tools) return tool_error("Grammar and tools are mutually exclusive");
  ChatPromptPlan plan;
  std::string choice = "auto";
  if (request.tool_choice.is_string()) choice = request.tool_choice.get<std::string>();
  if (request.tool_choice.is_object()) choice = request.tool_choice["function"]["name"].get<std::string>();
  if (request.tools && choice != "none") {
    if (choice == "required" || choice == "auto") {
      plan.active_tools = *request.tools;
    } else {
      for (const auto& tool : *request.tools)
        if (tool.name == choice) plan.active_tools.push_back(tool);
      if (plan.active_tools.empty()) return tool_error(fmt::format("Tool with name {} not found", choice));
    }
  }
  plan.native_tools = traits.uses_tools;

  json messages = json::array();
  for (const json& m : request.messages) {
    json out = plan.native_tools ? m : json::object();
    std::string role = m["role"].get<std::string>();
    if (role == "developer" && !traits.knows_developer_role) role = "system";
    out["role"] = role;
    auto content = m.find("content");
    const bool has_calls = m.contains("tool_calls") && !m["tool_calls"].is_null();
    if (content != m.end() && !content->is_null()) {
      TGI_ASSIGN_OR_RETURN(std::string text, flatten_content(*content, "messages"));
      out["content"] = text;
    } else if (plan.native_tools) {
      // Not null: templates test `'</think>' in message.content` and the like on every message.
      out["content"] = "";
    } else if (has_calls) {
      out["content"] = flattened_tool_calls(m["tool_calls"]);
    }
    if (plan.native_tools && has_calls) out["tool_calls"] = native_tool_calls(m["tool_calls"]);
    messages.push_back(std::move(out));
  }
  // A trailing assistant message is continued (TGI); natively, one that only made calls is history.
  if (!messages.empty() && messages.back()["role"] == "assistant" && messages.back()["content"].is_string() &&
      !(plan.native_tools && request.messages.back().value("content", json()).is_null()))
    plan.continue_final = messages.back()["content"].get<std::string>();

  if (!plan.active_tools.empty()) {
    json tools = json::array();
    if (plan.native_tools) {
      for (const auto& tool : plan.active_tools) tools.push_back(openai_tool(tool));
      plan.prompt.tools = std::move(tools);
      // The template teaches the model its own syntax; a client's explicit tool_prompt still goes in.
      if (request.tool_prompt && !request.tool_prompt->empty() && !messages.empty() &&
          messages.back()["content"].is_string())
        messages.back()["content"].get_ref<std::string&>() += "\n---\n" + *request.tool_prompt;
    } else {
      // TGI's injection: the tool list and an instruction appended to the last message; `auto`
      // adds the no_tool escape hatch TGI's prompt describes.
      std::vector<ChatTool> offered = plan.active_tools;
      if (choice == "auto")
        offered.push_back(ChatTool{"function", "no_tool",
                                   "Open ended response with no specific tool selected",
                                   json{{"type", "object"}}});
      for (const auto& tool : offered) tools.push_back(tool_for_prompt(tool));
      const std::string tool_prompt =
          request.tool_prompt && !request.tool_prompt->empty() ? *request.tool_prompt : kDefaultToolPrompt;
      if (!messages.empty() && messages.back()["content"].is_string() &&
          !messages.back()["content"].get<std::string>().empty()) {
        std::string& last = messages.back()["content"].get_ref<std::string&>();
        last += "\n---\n" + tools.dump() + "\n" + tool_prompt;
      }
    }
  }
  if (!plan.active_tools.empty() && choice != "auto") {
    std::vector<grammar::ForcedTool> forced;
    for (const auto& tool : plan.active_tools)
      forced.push_back(grammar::ForcedTool{tool.name, tool.parameters});
    plan.forced_tool_calls = grammar::ConstraintSpec{
        grammar::ConstraintKind::kToolCalls,
        grammar::tool_calls_spec_text(forced, request.parallel_tool_calls && choice == "required")};
  }
  plan.prompt.messages = std::move(messages);
  plan.prompt.template_kwargs = request.chat_template_kwargs;
  return plan;
}

std::string continue_final_message(const std::string& rendered, const std::string& content) {
  auto at = rendered.rfind(content);
  if (at == std::string::npos) return rendered;
  std::string cut = rendered.substr(0, at + content.size());
  while (!cut.empty() && std::isspace(static_cast<unsigned char>(cut.back()))) cut.pop_back();
  return cut;
}

Result<CompletionRequest> parse_completion_request(const json& body) {
  if (!body.is_object())
    return shape_error("", fmt::format("invalid type: {}, expected struct CompletionRequest", describe_json_value(body)));
  CompletionRequest r;
  TGI_ASSIGN_OR_RETURN(r.model, read_field<std::string>(body, "", "model"));
  TGI_ASSIGN_OR_RETURN(json prompt, read_required<json>(body, "", "prompt"));
  if (prompt.is_string()) {
    r.prompts.push_back(prompt.get<std::string>());
  } else if (prompt.is_array()) {
    if (prompt.empty()) return shape_error("prompt", "Empty array detected. Do not use an empty array for the prompt.");
    for (size_t i = 0; i < prompt.size(); ++i) {
      if (!prompt[i].is_string())
        return shape_error(fmt::format("prompt[{}]", i),
                           fmt::format("invalid type: {}, expected a string", describe_json_value(prompt[i])));
      r.prompts.push_back(prompt[i].get<std::string>());
    }
  } else {
    return shape_error("prompt", fmt::format("invalid type: {}, expected a string or a sequence of strings",
                                             describe_json_value(prompt)));
  }
  TGI_ASSIGN_OR_RETURN(r.max_tokens, read_field<uint32_t>(body, "", "max_tokens"));
  TGI_ASSIGN_OR_RETURN(r.temperature, read_field<float>(body, "", "temperature"));
  TGI_ASSIGN_OR_RETURN(r.top_p, read_field<float>(body, "", "top_p"));
  TGI_ASSIGN_OR_RETURN(auto stream, read_field<bool>(body, "", "stream", false));
  r.stream = stream.value_or(false);
  TGI_ASSIGN_OR_RETURN(r.seed, read_field<uint64_t>(body, "", "seed"));
  TGI_ASSIGN_OR_RETURN(r.suffix, read_field<std::string>(body, "", "suffix"));
  TGI_ASSIGN_OR_RETURN(r.repetition_penalty, read_field<float>(body, "", "repetition_penalty"));
  TGI_ASSIGN_OR_RETURN(r.frequency_penalty, read_field<float>(body, "", "frequency_penalty"));
  TGI_ASSIGN_OR_RETURN(r.stop, read_field<std::vector<std::string>>(body, "", "stop"));
  TGI_ASSIGN_OR_RETURN(auto n, read_field<uint32_t>(body, "", "n"));
  r.n = n.value_or(1);
  if (r.n == 0) return shape_error("n", "invalid value: integer `0`, expected at least one choice");
  TGI_ASSIGN_OR_RETURN(r.response_format, read_response_format(body));
  // TGI's `grammar` (a GrammarType) is taken here too: @huggingface/inference 4.x sends
  // textGeneration's `parameters.grammar` to /v1/completions as a top-level `grammar`, and
  // ignoring it would leave the output unconstrained.
  TGI_ASSIGN_OR_RETURN(auto grammar, read_field<json>(body, "", "grammar"));
  if (grammar) {
    if (r.response_format)
      return shape_error("grammar", "`grammar` and `response_format` are mutually exclusive");
    r.response_format = std::move(grammar);
  }
  TGI_ASSIGN_OR_RETURN(r.logprobs, read_field<uint32_t>(body, "", "logprobs"));
  if (r.logprobs && *r.logprobs > 5)
    return shape_error("logprobs",
                       fmt::format("invalid value: integer `{}`, expected at most 5", *r.logprobs));
  return r;
}

GenerateParameters completion_parameters(const CompletionRequest& r) {
  GenerateParameters p;
  if (r.temperature && *r.temperature == 0.0f) {
    p.do_sample = false;
  } else {
    p.do_sample = true;
    p.temperature = r.temperature;
  }
  p.top_p = r.top_p;
  p.repetition_penalty = r.repetition_penalty;
  p.frequency_penalty = r.frequency_penalty;
  p.max_new_tokens = r.max_tokens;
  p.stop = r.stop.value_or(std::vector<std::string>{});
  p.seed = r.seed;
  p.details = true;
  if (r.logprobs && *r.logprobs > 0) p.top_n_tokens = r.logprobs;
  if (r.model && *r.model != "tgi") p.adapter_id = r.model;
  p.grammar = r.response_format;
  return p;
}

}  // namespace tgi::server
