// The Anthropic Messages adapter: every request rule maps onto a chat body our OpenAI parser takes,
// every malformed field is an error naming it (never an exception), and responses and streams are
// byte-for-byte what Anthropic's clients parse.
#include "server/anthropic_messages.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "server/chat_request.h"

namespace tgi::server {
namespace {

using json = nlohmann::ordered_json;
using Kind = chat::OutputDelta::Kind;

json chat_body(const std::string& body) {
  auto translated = anthropic_to_chat_body(json::parse(body));
  EXPECT_TRUE(translated.ok()) << translated.error().message;
  return translated.ok() ? *translated : json();
}

// "" when the body translates, else the error message (which must be an invalid-argument error).
std::string error_of_json(const json& body) {
  auto translated = anthropic_to_chat_body(body);
  if (translated.ok()) return "";
  EXPECT_EQ(translated.error().kind, ErrorKind::kInvalidArgument);
  return translated.error().message;
}
std::string error_of(const std::string& body) {
  return error_of_json(json::parse(body));
}

// A request around `messages` (JSON text) with the required fields filled in.
std::string request_with_messages(const std::string& messages, const std::string& extra = "") {
  return R"({"model":"m","max_tokens":8,"messages":)" + messages + extra + "}";
}
std::string with_max_tokens(const std::string& max_tokens) {
  return R"({"model":"m","max_tokens":)" + max_tokens + R"(,"messages":[]})";
}
std::string request_with(const std::string& extra) {
  return request_with_messages(R"([{"role":"user","content":"x"}])", "," + extra);
}

// Ids are random; replace them so whole bodies compare exactly.
std::string without_ids(const std::string& text) {
  static const std::regex kId("(msg_|toolu_)[A-Za-z0-9]{24}");
  return std::regex_replace(text, kId, "$1ID");
}

TEST(AnthropicRequest, MinimalRequestIsAChatBody) {
  EXPECT_EQ(chat_body(request_with_messages(R"([{"role":"user","content":"Hi"}])")).dump(),
            R"({"model":"m","messages":[{"role":"user","content":"Hi"}],"max_tokens":8})");
}

TEST(AnthropicRequest, SystemBecomesTheFirstMessage) {
  EXPECT_EQ(chat_body(request_with(R"("system":"Be brief.")"))["messages"][0].dump(),
            R"({"role":"system","content":"Be brief."})");
  EXPECT_EQ(
      chat_body(request_with(
          R"("system":[{"type":"text","text":"A."},{"type":"text","text":"B.","cache_control":{"type":"ephemeral"}}])"))
          ["messages"][0]
              .dump(),
      R"({"role":"system","content":"A.\n\nB."})");
  // Nothing to say: no system message at all.
  EXPECT_EQ(chat_body(request_with(R"("system":"")"))["messages"].size(), 1u);
  EXPECT_EQ(chat_body(request_with(R"("system":[])"))["messages"].size(), 1u);
  EXPECT_EQ(chat_body(request_with(R"("system":null)"))["messages"].size(), 1u);
}

TEST(AnthropicRequest, TextBlocksAreJoined) {
  EXPECT_EQ(chat_body(request_with_messages(
                R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}])"))
                ["messages"]
                    .dump(),
            R"([{"role":"user","content":"a\n\nb"}])");
  EXPECT_EQ(chat_body(request_with_messages(R"([{"role":"user","content":[]}])"))["messages"].dump(),
            R"([{"role":"user","content":""}])");
  EXPECT_EQ(
      chat_body(request_with_messages(
          R"([{"role":"user","content":"q"},{"role":"assistant","content":[{"type":"text","text":"a"}]}])"))
          ["messages"][1]
              .dump(),
      R"({"role":"assistant","content":"a"})");
}

TEST(AnthropicRequest, ToolUseBecomesToolCalls) {
  const json messages = chat_body(request_with_messages(R"([
    {"role":"user","content":"weather?"},
    {"role":"assistant","content":[
      {"type":"thinking","thinking":"hmm","signature":"sig"},
      {"type":"text","text":"Checking."},
      {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris","days":2}},
      {"type":"tool_use","id":"toolu_2","name":"now","input":{}}]}])"))["messages"];
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(
      messages[1].dump(),
      R"({"role":"assistant","content":"Checking.","tool_calls":[)"
      R"({"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\",\"days\":2}"}},)"
      R"({"id":"toolu_2","type":"function","function":{"name":"now","arguments":"{}"}}]})");
}

TEST(AnthropicRequest, ToolCallsWithoutTextHaveNullContent) {
  EXPECT_EQ(
      chat_body(request_with_messages(R"([{"role":"user","content":"q"},{"role":"assistant","content":[
              {"type":"tool_use","id":"t","name":"f","input":{"a":[1]}}]}])"))["messages"][1]
          .dump(),
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{\"a\":[1]}"}}]})");
}

TEST(AnthropicRequest, ThinkingInHistoryIsDropped) {
  const json messages = chat_body(request_with_messages(R"([{"role":"user","content":"q"},
    {"role":"assistant","content":[{"type":"redacted_thinking","data":"xx"},{"type":"thinking","thinking":"t","signature":"s"}]},
    {"role":"user","content":"again"},
    {"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"ok"}]}])"))
      ["messages"];
  // The thinking-only turn is gone; the other keeps its text.
  EXPECT_EQ(
      messages.dump(),
      R"([{"role":"user","content":"q"},{"role":"user","content":"again"},{"role":"assistant","content":"ok"}])");
}

TEST(AnthropicRequest, ToolResultsBecomeToolMessagesInOrder) {
  const json messages = chat_body(request_with_messages(R"([
    {"role":"user","content":"q"},
    {"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":{}},{"type":"tool_use","id":"b","name":"f","input":{}}]},
    {"role":"user","content":[
      {"type":"tool_result","tool_use_id":"a","content":"sunny"},
      {"type":"tool_result","tool_use_id":"b","content":[{"type":"text","text":"line 1"},{"type":"text","text":"line 2"}]},
      {"type":"text","text":"thanks"},
      {"type":"text","text":"and more"}]}])"))["messages"];
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[2].dump(), R"({"role":"tool","tool_call_id":"a","content":"sunny"})");
  EXPECT_EQ(messages[3].dump(), R"({"role":"tool","tool_call_id":"b","content":"line 1\n\nline 2"})");
  EXPECT_EQ(messages[4].dump(), R"({"role":"user","content":"thanks\n\nand more"})");
}

TEST(AnthropicRequest, TextBeforeAToolResultStaysBeforeIt) {
  EXPECT_EQ(chat_body(request_with_messages(R"([{"role":"user","content":[
              {"type":"text","text":"first"},{"type":"tool_result","tool_use_id":"a"}]}])"))["messages"]
                .dump(),
            R"([{"role":"user","content":"first"},{"role":"tool","tool_call_id":"a","content":""}])");
}

TEST(AnthropicRequest, ToolResultErrorsAreSaidInTheText) {
  EXPECT_EQ(chat_body(request_with_messages(R"([{"role":"user","content":[
              {"type":"tool_result","tool_use_id":"a","content":"no such city","is_error":true}]}])"))
                ["messages"][0]
                    .dump(),
            R"({"role":"tool","tool_call_id":"a","content":"Error: no such city"})");
  EXPECT_EQ(chat_body(request_with_messages(R"([{"role":"user","content":[
              {"type":"tool_result","tool_use_id":"a","is_error":true}]}])"))["messages"][0]["content"],
            "Error");
  EXPECT_EQ(chat_body(request_with_messages(R"([{"role":"user","content":[
              {"type":"tool_result","tool_use_id":"a","content":"fine","is_error":false}]}])"))["messages"][0]
                                                                                               ["content"],
            "fine");
}

TEST(AnthropicRequest, ToolsBecomeFunctions) {
  EXPECT_EQ(
      chat_body(request_with(R"("tools":[
        {"name":"get_weather","description":"Weather now","input_schema":{"type":"object","properties":{"city":{"type":"string"}}},"cache_control":{"type":"ephemeral"}},
        {"type":"custom","name":"now","input_schema":{"type":"object"}}])"))["tools"]
          .dump(),
      R"([{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},)"
      R"({"type":"function","function":{"name":"now","parameters":{"type":"object"}}}])");
  // No tools: none at all, so the chat pipeline does not switch its tool prompt on.
  EXPECT_FALSE(chat_body(request_with(R"("tools":[])")).contains("tools"));
}

TEST(AnthropicRequest, ToolChoiceMapsToOpenAi) {
  const std::string tools = R"("tools":[{"name":"f","input_schema":{"type":"object"}}],)";
  EXPECT_EQ(chat_body(request_with(tools + R"("tool_choice":{"type":"auto"})"))["tool_choice"], "auto");
  EXPECT_EQ(chat_body(request_with(tools + R"("tool_choice":{"type":"any"})"))["tool_choice"], "required");
  EXPECT_EQ(chat_body(request_with(tools + R"("tool_choice":{"type":"none"})"))["tool_choice"], "none");
  EXPECT_EQ(
      chat_body(request_with(tools + R"("tool_choice":{"type":"tool","name":"f"})"))["tool_choice"].dump(),
      R"({"type":"function","function":{"name":"f"}})");
  const json serial =
      chat_body(request_with(tools + R"("tool_choice":{"type":"auto","disable_parallel_tool_use":true})"));
  EXPECT_EQ(serial["parallel_tool_calls"], false);
  EXPECT_FALSE(
      chat_body(request_with(tools + R"("tool_choice":{"type":"any","disable_parallel_tool_use":false})"))
          .contains("parallel_tool_calls"));
}

TEST(AnthropicRequest, SamplingFieldsPassThrough) {
  EXPECT_EQ(
      chat_body(
          request_with(R"("stop_sequences":["\n\nHuman:","END"],"temperature":0.5,"top_p":0.9,"top_k":40,)"
                       R"("stream":true,"metadata":{"user_id":"u"},"service_tier":"auto")"))
          .dump(),
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":8,"stop":["\n\nHuman:","END"],)"
      R"("temperature":0.5,"top_p":0.9,"top_k":40,"stream":true})");
  // An empty stop list is no stop list.
  EXPECT_FALSE(chat_body(request_with(R"("stop_sequences":[])")).contains("stop"));
  EXPECT_EQ(chat_body(request_with(R"("temperature":0)"))["temperature"], 0);
}

TEST(AnthropicRequest, ThinkingSwitchesTheTemplate) {
  EXPECT_EQ(
      chat_body(request_with(R"("thinking":{"type":"enabled","budget_tokens":1024})"))["chat_template_kwargs"]
          .dump(),
      R"({"enable_thinking":true})");
  EXPECT_EQ(chat_body(request_with(R"("thinking":{"type":"adaptive"})"))["chat_template_kwargs"].dump(),
            R"({"enable_thinking":true})");
  EXPECT_EQ(chat_body(request_with(R"("thinking":{"type":"disabled"})"))["chat_template_kwargs"].dump(),
            R"({"enable_thinking":false})");
  EXPECT_FALSE(chat_body(request_with(R"("thinking":null)")).contains("chat_template_kwargs"));
}

TEST(AnthropicRequest, ModelIsOptionalButAString) {
  auto translated = anthropic_to_chat_body(json::parse(R"({"max_tokens":1,"messages":[]})"));
  ASSERT_TRUE(translated.ok());
  EXPECT_EQ(translated->dump(), R"({"messages":[],"max_tokens":1})");
  EXPECT_EQ(error_of(R"({"model":1,"max_tokens":1,"messages":[]})"),
            "model: invalid type: integer `1`, expected a string");
}

TEST(AnthropicRequest, CountTokensNeedsNoMaxTokens) {
  auto counted = anthropic_count_tokens_body(json::parse(
      R"({"model":"m","system":"s","messages":[{"role":"user","content":"hi"}],"max_tokens":"ignored"})"));
  ASSERT_TRUE(counted.ok()) << counted.error().message;
  EXPECT_EQ(counted->dump(),
            R"({"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"hi"}]})");
  auto bad =
      anthropic_count_tokens_body(json::parse(R"({"model":"m","messages":[{"role":"bot","content":"hi"}]})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "messages[0].role: unknown role `bot`, expected `user` or `assistant`");
  EXPECT_EQ(anthropic_count_tokens_json(42), R"({"input_tokens":42})");
}

TEST(AnthropicRequest, EveryMalformedFieldIsNamed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "invalid type: sequence, expected a Messages request object"},
      {R"({"max_tokens":1})", "missing field `messages`"},
      {R"({"messages":[]})", "missing field `max_tokens`"},
      {R"({"messages":{},"max_tokens":1})", "messages: invalid type: map, expected a sequence of messages"},
      {request_with_messages("[1]"), "messages[0]: invalid type: integer `1`, expected a message object"},
      {request_with_messages(R"([{"content":"x"}])"), "messages[0]: missing field `role`"},
      {request_with_messages(R"([{"role":1,"content":"x"}])"),
       "messages[0].role: invalid type: integer `1`, expected a string"},
      {request_with_messages(R"([{"role":"system","content":"x"}])"),
       "messages[0].role: unknown role `system`, expected `user` or `assistant`"},
      {request_with_messages(R"([{"role":"user"}])"), "messages[0]: missing field `content`"},
      {request_with_messages(R"([{"role":"user","content":5}])"),
       "messages[0].content: invalid type: integer `5`, expected a string or a sequence of content blocks"},
      {request_with_messages(R"([{"role":"user","content":["hi"]}])"),
       "messages[0].content[0]: invalid type: string \"hi\", expected a content block object"},
      {request_with_messages(R"([{"role":"user","content":[{"text":"hi"}]}])"),
       "messages[0].content[0]: missing field `type`"},
      {request_with_messages(R"([{"role":"user","content":[{"type":"text"}]}])"),
       "messages[0].content[0]: missing field `text`"},
      {request_with_messages(R"([{"role":"user","content":[{"type":"text","text":[]}]}])"),
       "messages[0].content[0].text: invalid type: sequence, expected a string"},
      {request_with_messages(R"([{"role":"user","content":[{"type":"video"}]}])"),
       "messages[0].content[0].type: unknown content block type `video`, expected `text` or `tool_result`"},
      {request_with_messages(R"([{"role":"assistant","content":[{"type":"video"}]}])"),
       "messages[0].content[0].type: unknown content block type `video`, expected `text`, `tool_use`, "
       "`thinking` or "
       "`redacted_thinking`"},
      {request_with_messages(
           R"([{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AA=="}}]}])"),
       "messages[0].content[0]: `image` content blocks are not supported by this server"},
      {request_with_messages(R"([{"role":"user","content":[{"type":"document","source":{}}]}])"),
       "messages[0].content[0]: `document` content blocks are not supported by this server"},
      {request_with_messages(R"([{"role":"assistant","content":[{"type":"image"}]}])"),
       "messages[0].content[0]: `image` content blocks are not supported by this server"},
      {request_with_messages(
           R"([{"role":"user","content":[{"type":"tool_use","id":"a","name":"f","input":{}}]}])"),
       "messages[0].content[0]: `tool_use` content blocks are only allowed in assistant messages"},
      {request_with_messages(R"([{"role":"user","content":[{"type":"thinking","thinking":"x"}]}])"),
       "messages[0].content[0]: `thinking` content blocks are only allowed in assistant messages"},
      {request_with_messages(
           R"([{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"a"}]}])"),
       "messages[0].content[0]: `tool_result` content blocks are only allowed in user messages"},
      {request_with_messages(
           R"([{"role":"assistant","content":[{"type":"tool_use","name":"f","input":{}}]}])"),
       "messages[0].content[0]: missing field `id`"},
      {request_with_messages(R"([{"role":"assistant","content":[{"type":"tool_use","id":"a","input":{}}]}])"),
       "messages[0].content[0]: missing field `name`"},
      {request_with_messages(R"([{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f"}]}])"),
       "messages[0].content[0]: missing field `input`"},
      {request_with_messages(
           R"([{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"f","input":"{}"}]}])"),
       "messages[0].content[0].input: invalid type: string \"{}\", expected an object"},
      {request_with_messages(R"([{"role":"user","content":[{"type":"tool_result"}]}])"),
       "messages[0].content[0]: missing field `tool_use_id`"},
      {request_with_messages(
           R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":3}]}])"),
       "messages[0].content[0].content: invalid type: integer `3`, expected a string or a sequence of "
       "content blocks"},
      {request_with_messages(
           R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"image"}]}]}])"),
       "messages[0].content[0].content[0]: `image` content blocks are not supported by this server"},
      {request_with_messages(
           R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":[{"type":"tool_use"}]}]}])"),
       "messages[0].content[0].content[0].type: unknown content block type `tool_use`, expected `text`"},
      {request_with_messages(
           R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","is_error":"yes"}]}])"),
       "messages[0].content[0].is_error: invalid type: string \"yes\", expected a boolean"},
      {with_max_tokens(R"("8")"), "max_tokens: invalid type: string \"8\", expected an integer"},
      {with_max_tokens("8.5"), "max_tokens: invalid type: floating point `8.5`, expected an integer"},
      {with_max_tokens("null"), "missing field `max_tokens`"},
      {with_max_tokens("0"), "max_tokens: invalid value: 0, expected an integer from 1 to 4294967295"},
      {with_max_tokens("-3"), "max_tokens: invalid value: -3, expected an integer from 1 to 4294967295"},
      {with_max_tokens("4294967296"),
       "max_tokens: invalid value: 4294967296, expected an integer from 1 to 4294967295"},
      {request_with(R"("system":5)"),
       "system: invalid type: integer `5`, expected a string or a sequence of text blocks"},
      {request_with(R"("system":[{"type":"image"}])"),
       "system[0].type: unknown content block type `image`, expected `text`"},
      {request_with(R"("system":[{"type":"text","text":1}])"),
       "system[0].text: invalid type: integer `1`, expected a string"},
      {request_with(R"("stop_sequences":"END")"),
       "stop_sequences: invalid type: string \"END\", expected a sequence of strings"},
      {request_with(R"("stop_sequences":["a",1])"),
       "stop_sequences[1]: invalid type: integer `1`, expected a string"},
      {request_with(R"("temperature":"hot")"),
       "temperature: invalid type: string \"hot\", expected a number"},
      {request_with(R"("top_p":true)"), "top_p: invalid type: boolean `true`, expected a number"},
      {request_with(R"("top_k":-1)"), "top_k: invalid type: integer `-1`, expected a non-negative integer"},
      {request_with(R"("top_k":1.5)"),
       "top_k: invalid type: floating point `1.5`, expected a non-negative integer"},
      {request_with(R"("top_k":4294967296)"),
       "top_k: invalid value: 4294967296, expected at most 4294967295"},
      {request_with(R"("stream":"yes")"), "stream: invalid type: string \"yes\", expected a boolean"},
      {request_with(R"("tools":{})"), "tools: invalid type: map, expected a sequence of tools"},
      {request_with(R"("tools":["f"])"), "tools[0]: invalid type: string \"f\", expected a tool object"},
      {request_with(R"("tools":[{"input_schema":{}}])"), "tools[0]: missing field `name`"},
      {request_with(R"("tools":[{"name":"","input_schema":{}}])"),
       "tools[0].name: invalid value: a tool needs a name"},
      {request_with(R"("tools":[{"name":"f"}])"), "tools[0]: missing field `input_schema`"},
      {request_with(R"("tools":[{"name":"f","input_schema":[]}])"),
       "tools[0].input_schema: invalid type: sequence, expected an object"},
      {request_with(R"("tools":[{"name":"f","description":2,"input_schema":{}}])"),
       "tools[0].description: invalid type: integer `2`, expected a string"},
      {request_with(R"("tools":[{"type":"web_search_20250305","name":"web_search"}])"),
       "tools[0].type: tool type `web_search_20250305` is not supported by this server; only client tools "
       "(name, "
       "description, input_schema) are"},
      {request_with(R"("tools":[{"type":7,"name":"f","input_schema":{}}])"),
       "tools[0].type: invalid type: integer `7`, expected a string"},
      {request_with(R"("tool_choice":"auto")"),
       "tool_choice: invalid type: string \"auto\", expected an object"},
      {request_with(R"("tool_choice":{})"), "tool_choice: missing field `type`"},
      {request_with(R"("tool_choice":{"type":"function"})"),
       "tool_choice.type: unknown tool choice `function`, expected `auto`, `any`, `tool` or `none`"},
      {request_with(R"("tool_choice":{"type":"tool"})"), "tool_choice: missing field `name`"},
      {request_with(R"("tool_choice":{"type":"auto","disable_parallel_tool_use":1})"),
       "tool_choice.disable_parallel_tool_use: invalid type: integer `1`, expected a boolean"},
      {request_with(R"("thinking":true)"), "thinking: invalid type: boolean `true`, expected an object"},
      {request_with(R"("thinking":{})"), "thinking: missing field `type`"},
      {request_with(R"("thinking":{"type":"on"})"),
       "thinking.type: unknown thinking type `on`, expected `enabled`, `adaptive` or `disabled`"},
      {request_with(R"("thinking":{"type":"enabled","budget_tokens":"lots"})"),
       "thinking.budget_tokens: invalid type: string \"lots\", expected a non-negative integer"},
  };
  for (const auto& [body, expected] : cases) EXPECT_EQ(error_of(body), expected) << body;
}

// A valid request touching every field and block kind, to mutate.
const char* kEverythingRequest = R"({
  "model":"m","max_tokens":64,"system":[{"type":"text","text":"sys"}],
  "messages":[
    {"role":"user","content":[{"type":"text","text":"hi"}]},
    {"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"a"},
                                   {"type":"tool_use","id":"toolu_1","name":"f","input":{"x":1}}]},
    {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"r"}],"is_error":false}]}],
  "tools":[{"name":"f","description":"d","input_schema":{"type":"object"}}],
  "tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":true},
  "stop_sequences":["x"],"temperature":1,"top_p":1,"top_k":5,"stream":false,
  "thinking":{"type":"enabled","budget_tokens":2048},"metadata":{"user_id":"u"}})";

// JSON pointers to every value in `value` (the keys used here need no escaping).
void collect_paths(const json& value, const std::string& prefix, std::vector<std::string>& out) {
  out.push_back(prefix);
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) collect_paths(item, prefix + "/" + key, out);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) collect_paths(value[i], prefix + "/" + std::to_string(i), out);
  }
}

// Translates `body` both ways; true when it was rejected (always as an invalid argument).
bool rejected_without_throwing(const json& body, const std::string& label) {
  bool rejected = false;
  for (bool count_tokens : {false, true}) {
    try {
      auto translated = count_tokens ? anthropic_count_tokens_body(body) : anthropic_to_chat_body(body);
      if (!translated.ok()) {
        rejected = true;
        EXPECT_EQ(translated.error().kind, ErrorKind::kInvalidArgument) << label;
        EXPECT_FALSE(translated.error().message.empty()) << label;
      } else {
        EXPECT_FALSE(translated->dump().empty()) << label;  // what we accept we can print back
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << label << " threw " << e.what();
    }
  }
  return rejected;
}

TEST(AnthropicRequest, HostileBodiesAreErrorsNeverExceptions) {
  const json base = json::parse(kEverythingRequest);
  ASSERT_EQ(error_of_json(base), "");
  std::vector<std::string> paths;
  collect_paths(base, "", paths);
  const std::vector<json> hostile = {nullptr,
                                     true,
                                     0,
                                     -1,
                                     18446744073709551615ull,
                                     -9223372036854775807ll - 1,
                                     1.5,
                                     "",
                                     "text",
                                     json::array(),
                                     json::array({1, "a", nullptr}),
                                     json::object(),
                                     json{{"type", "text"}},
                                     json{{"type", 1}},
                                     json::parse(R"([[[[[[[[[[{"a":[[[[[]]]]]}]]]]]]]]]])")};
  size_t rejected = 0;
  for (const std::string& path : paths) {
    for (const json& replacement : hostile) {
      json body = base;
      body[json::json_pointer(path)] = replacement;
      if (rejected_without_throwing(body, path + " = " + replacement.dump())) ++rejected;
    }
  }
  EXPECT_GT(rejected, paths.size());  // most fields reject most replacements
  for (const json& body : hostile) EXPECT_TRUE(rejected_without_throwing(body, body.dump()));
}

// The point of the translation: what it produces, the chat pipeline takes, from parsing to the
// prompt plan, with or without a template that renders tools itself.
TEST(AnthropicRequest, TranslationsAreValidChatRequests) {
  const json base = json::parse(kEverythingRequest);
  auto translated = anthropic_to_chat_body(base);
  ASSERT_TRUE(translated.ok()) << translated.error().message;
  auto request = parse_chat_request(*translated);
  ASSERT_TRUE(request.ok()) << request.error().message << "\n" << translated->dump();
  EXPECT_EQ(request->top_k, 5u);
  EXPECT_FALSE(request->parallel_tool_calls);
  EXPECT_EQ(request->chat_template_kwargs.dump(), R"({"enable_thinking":true})");
  EXPECT_EQ(request->max_tokens, 64u);
  for (bool native_tools : {false, true}) {
    ChatTraits traits;
    traits.uses_tools = native_tools;
    auto plan = plan_chat_prompt(*request, traits);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_EQ(plan->active_tools.size(), 1u);
  }

  // Every mutation we accept, the chat parser accepts too.
  std::vector<std::string> paths;
  collect_paths(base, "", paths);
  for (const std::string& path : paths) {
    for (const json& replacement : {json(nullptr), json(true), json(0), json(1.5), json("s"), json::array(),
                                    json::object(), json::array({json{{"type", "text"}, {"text", "t"}}})}) {
      json body = base;
      body[json::json_pointer(path)] = replacement;
      for (bool count_tokens : {false, true}) {
        auto chat = count_tokens ? anthropic_count_tokens_body(body) : anthropic_to_chat_body(body);
        if (!chat.ok()) continue;
        auto parsed = parse_chat_request(*chat);
        EXPECT_TRUE(parsed.ok()) << path << " = " << replacement.dump() << ": " << parsed.error().message;
      }
    }
  }
}

ChatOutcome outcome_of(chat::AssistantOutput output, engine::FinishReason reason, int64_t prompt = 10,
                       int64_t completion = 5, int64_t cached = 0) {
  ChatOutcome outcome;
  outcome.output = std::move(output);
  outcome.finish_reason = reason;
  outcome.usage = ChatUsage{prompt, completion, cached};
  return outcome;
}

TEST(AnthropicResponse, MessageHasEveryBlockInOrder) {
  ChatOutcome outcome = outcome_of(
      {"Let me look.", "Checking the weather.", {{"get_weather", R"({"city":"Paris"})"}, {"now", "{}"}}},
      engine::FinishReason::kEosToken, 20, 7, 4);
  const std::string body = anthropic_message_json("my-model", outcome);
  EXPECT_EQ(
      without_ids(body),
      R"({"id":"msg_ID","type":"message","role":"assistant","model":"my-model","content":[)"
      R"({"type":"thinking","thinking":"Let me look.","signature":""},)"
      R"({"type":"text","text":"Checking the weather."},)"
      R"({"type":"tool_use","id":"toolu_ID","name":"get_weather","input":{"city":"Paris"}},)"
      R"({"type":"tool_use","id":"toolu_ID","name":"now","input":{}}],)"
      R"("stop_reason":"tool_use","stop_sequence":null,)"
      R"("usage":{"input_tokens":16,"cache_creation_input_tokens":0,"cache_read_input_tokens":4,"output_tokens":7}})");
  // Each call has its own id.
  const json parsed = json::parse(body);
  EXPECT_NE(parsed["content"][2]["id"], parsed["content"][3]["id"]);
  EXPECT_EQ(parsed["content"][2]["id"].get<std::string>().size(), std::string("toolu_").size() + 24);
}

TEST(AnthropicResponse, StopReasons) {
  auto reason_and_sequence = [](ChatOutcome outcome) {
    const json body = json::parse(anthropic_message_json("m", outcome));
    return body["stop_reason"].get<std::string>() + " " + body["stop_sequence"].dump();
  };
  EXPECT_EQ(reason_and_sequence(outcome_of({"", "hi", {}}, engine::FinishReason::kEosToken)),
            "end_turn null");
  EXPECT_EQ(reason_and_sequence(outcome_of({"", "hi", {}}, engine::FinishReason::kLength)),
            "max_tokens null");
  ChatOutcome stopped = outcome_of({"", "hi", {}}, engine::FinishReason::kStopSequence);
  stopped.stop_sequence = "END";
  EXPECT_EQ(reason_and_sequence(stopped), R"(stop_sequence "END")");
  // A stop the client did not ask for (the template's own end marker) is an ordinary end of turn.
  EXPECT_EQ(reason_and_sequence(outcome_of({"", "hi", {}}, engine::FinishReason::kStopSequence)),
            "end_turn null");
  EXPECT_EQ(reason_and_sequence(outcome_of({"", "", {{"f", "{}"}}}, engine::FinishReason::kEosToken)),
            "tool_use null");
  // Cut off mid-call: the arguments may be incomplete, and the client must know it ran out.
  EXPECT_EQ(reason_and_sequence(outcome_of({"", "", {{"f", "{}"}}}, engine::FinishReason::kLength)),
            "max_tokens null");
}

TEST(AnthropicResponse, EmptyOutputIsAnEmptyTextBlock) {
  EXPECT_EQ(
      without_ids(anthropic_message_json("m", outcome_of({}, engine::FinishReason::kEosToken, 3, 0))),
      R"({"id":"msg_ID","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":""}],)"
      R"("stop_reason":"end_turn","stop_sequence":null,)"
      R"("usage":{"input_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}})");
}

TEST(AnthropicResponse, UnparsableArgumentsAreAnEmptyInput) {
  const json body = json::parse(anthropic_message_json(
      "m", outcome_of({"", "", {{"f", "{not json"}, {"g", "[1,2]"}}}, engine::FinishReason::kEosToken)));
  EXPECT_EQ(body["content"][0]["input"].dump(), "{}");
  EXPECT_EQ(body["content"][1]["input"].dump(), "{}");
}

TEST(AnthropicResponse, InvalidUtf8IsReplacedNotThrown) {
  std::string body;
  EXPECT_NO_THROW(body = anthropic_message_json(
                      "m", outcome_of({"", "bad \xff byte", {}}, engine::FinishReason::kLength)));
  EXPECT_NE(body.find("bad \xEF\xBF\xBD byte"), std::string::npos);
}

TEST(AnthropicErrors, BodyAndTypes) {
  EXPECT_EQ(anthropic_error_body("invalid_request_error", "max_tokens: \"x\""),
            R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: \"x\""}})");
  EXPECT_STREQ(anthropic_error_type(400), "invalid_request_error");
  EXPECT_STREQ(anthropic_error_type(422), "invalid_request_error");
  EXPECT_STREQ(anthropic_error_type(401), "authentication_error");
  EXPECT_STREQ(anthropic_error_type(403), "permission_error");
  EXPECT_STREQ(anthropic_error_type(404), "not_found_error");
  EXPECT_STREQ(anthropic_error_type(413), "request_too_large");
  EXPECT_STREQ(anthropic_error_type(429), "rate_limit_error");
  EXPECT_STREQ(anthropic_error_type(500), "api_error");
  EXPECT_STREQ(anthropic_error_type(424), "api_error");
  EXPECT_STREQ(anthropic_error_type(503), "overloaded_error");
  EXPECT_STREQ(anthropic_error_type(529), "overloaded_error");
  EXPECT_STREQ(anthropic_error_type(504), "timeout_error");
  EXPECT_STREQ(anthropic_error_type(405), "invalid_request_error");
  EXPECT_STREQ(anthropic_error_type(502), "api_error");
}

struct SseEvent {
  std::string name;
  json data;
};

// Splits a stream into its events, checking each is exactly "event: <name>\ndata: <json>\n\n" with
// the data's `type` equal to the event name (what Anthropic's clients rely on).
std::vector<SseEvent> parse_stream(const std::string& bytes) {
  std::vector<SseEvent> events;
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t end = bytes.find("\n\n", at);
    EXPECT_NE(end, std::string::npos) << "unterminated event at " << at;
    if (end == std::string::npos) break;
    const std::string frame = bytes.substr(at, end - at);
    at = end + 2;
    const size_t newline = frame.find('\n');
    EXPECT_EQ(frame.rfind("event: ", 0), 0u) << frame;
    EXPECT_EQ(frame.compare(newline + 1, 6, "data: "), 0) << frame;
    SseEvent event{frame.substr(7, newline - 7), json::parse(frame.substr(newline + 7))};
    EXPECT_EQ(event.data["type"], event.name) << frame;
    events.push_back(std::move(event));
  }
  return events;
}

chat::OutputDelta delta_of(Kind kind, std::string text, size_t tool_index = 0) {
  chat::OutputDelta delta;
  delta.kind = kind;
  delta.text = std::move(text);
  delta.tool_index = tool_index;
  return delta;
}

// Builds the final message from events the way Anthropic's SDKs do: blocks by index, deltas
// appended, tool input parsed from the concatenated partial JSON.
json accumulate(const std::vector<SseEvent>& events) {
  json message;
  std::map<int64_t, std::string> partial_json;
  for (const SseEvent& event : events) {
    if (event.name == "message_start") {
      message = event.data["message"];
    } else if (event.name == "content_block_start") {
      EXPECT_EQ(event.data["index"], message["content"].size());
      message["content"].push_back(event.data["content_block"]);
    } else if (event.name == "content_block_delta") {
      json& block = message["content"][event.data["index"].get<size_t>()];
      const json& delta = event.data["delta"];
      const std::string type = delta["type"];
      if (type == "text_delta")
        block["text"] = block["text"].get<std::string>() + delta["text"].get<std::string>();
      if (type == "thinking_delta")
        block["thinking"] = block["thinking"].get<std::string>() + delta["thinking"].get<std::string>();
      if (type == "signature_delta") block["signature"] = delta["signature"];
      if (type == "input_json_delta")
        partial_json[event.data["index"]] += delta["partial_json"].get<std::string>();
    } else if (event.name == "content_block_stop") {
      const int64_t index = event.data["index"];
      if (partial_json.count(index)) message["content"][index]["input"] = json::parse(partial_json[index]);
    } else if (event.name == "message_delta") {
      message["stop_reason"] = event.data["delta"]["stop_reason"];
      message["stop_sequence"] = event.data["delta"]["stop_sequence"];
      for (const auto& [key, value] : event.data["usage"].items()) message["usage"][key] = value;
    }
  }
  return message;
}

TEST(AnthropicStream, ThinkingTextAndTwoToolCalls) {
  AnthropicStreamWriter writer("my-model", 12);
  std::string bytes = writer.begin();
  const std::vector<chat::OutputDelta> deltas = {
      delta_of(Kind::kReasoning, "Need the "),
      delta_of(Kind::kReasoning, "weather."),
      delta_of(Kind::kContent, "Let me "),
      delta_of(Kind::kContent, ""),  // nothing to say: no event
      delta_of(Kind::kContent, "check."),
      delta_of(Kind::kToolCallStart, "get_weather", 0),
      delta_of(Kind::kToolCallArguments, R"({"city":)", 0),
      delta_of(Kind::kToolCallArguments, R"( "Paris"})", 0),
      delta_of(Kind::kToolCallStart, "now", 1),
      delta_of(Kind::kToolCallArguments, "{}", 1),
  };
  for (const auto& delta : deltas) bytes += writer.delta(delta);
  ChatOutcome outcome = outcome_of(
      {"Need the weather.", "Let me check.", {{"get_weather", R"({"city":"Paris"})"}, {"now", "{}"}}},
      engine::FinishReason::kEosToken, 12, 30, 8);
  bytes += writer.end(outcome);

  const std::vector<std::string> expected = {
      R"(message_start {"type":"message_start","message":{"id":"msg_ID","type":"message","role":"assistant","model":"my-model","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}})",
      R"(ping {"type":"ping"})",
      R"(content_block_start {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})",
      R"(content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Need the "}})",
      R"(content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"weather."}})",
      R"(content_block_delta {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":""}})",
      R"(content_block_stop {"type":"content_block_stop","index":0})",
      R"(content_block_start {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})",
      R"(content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Let me "}})",
      R"(content_block_delta {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"check."}})",
      R"(content_block_stop {"type":"content_block_stop","index":1})",
      R"(content_block_start {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_ID","name":"get_weather","input":{}}})",
      R"(content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}})",
      R"(content_block_delta {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":" \"Paris\"}"}})",
      R"(content_block_stop {"type":"content_block_stop","index":2})",
      R"(content_block_start {"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_ID","name":"now","input":{}}})",
      R"(content_block_delta {"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{}"}})",
      R"(content_block_stop {"type":"content_block_stop","index":3})",
      R"(message_delta {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":4,"cache_creation_input_tokens":0,"cache_read_input_tokens":8,"output_tokens":30}})",
      R"(message_stop {"type":"message_stop"})",
  };
  const std::vector<SseEvent> events = parse_stream(bytes);
  ASSERT_EQ(events.size(), expected.size()) << bytes;
  for (size_t i = 0; i < events.size(); ++i)
    EXPECT_EQ(without_ids(events[i].name + " " + events[i].data.dump()), expected[i]) << "event " << i;

  // The tool calls' ids differ, and the accumulated message is the non-streaming one.
  EXPECT_NE(events[11].data["content_block"]["id"], events[15].data["content_block"]["id"]);
  json accumulated = accumulate(events);
  EXPECT_EQ(accumulated["content"][2]["input"].dump(), R"({"city":"Paris"})");
  EXPECT_EQ(accumulated["content"][3]["input"].dump(), "{}");
  json non_streaming = json::parse(anthropic_message_json("my-model", outcome));
  EXPECT_EQ(without_ids(accumulated.dump()), without_ids(non_streaming.dump()));
}

TEST(AnthropicStream, EmptyGenerationStillHasATextBlock) {
  AnthropicStreamWriter writer("m", 3);
  std::string bytes = writer.begin();
  bytes += writer.delta(delta_of(Kind::kReasoning, ""));
  bytes += writer.end(outcome_of({}, engine::FinishReason::kLength, 3, 2));
  std::vector<std::string> names;
  for (const auto& event : parse_stream(bytes)) names.push_back(event.name);
  EXPECT_EQ(names, (std::vector<std::string>{"message_start", "ping", "content_block_start",
                                             "content_block_stop", "message_delta", "message_stop"}));
  const json message = accumulate(parse_stream(bytes));
  EXPECT_EQ(message["content"].dump(), R"([{"type":"text","text":""}])");
  EXPECT_EQ(message["stop_reason"], "max_tokens");
  EXPECT_EQ(without_ids(message.dump()),
            without_ids(anthropic_message_json("m", outcome_of({}, engine::FinishReason::kLength, 3, 2))));
}

TEST(AnthropicStream, EachChangeOfKindOpensTheNextBlock) {
  AnthropicStreamWriter writer("m", 1);
  std::string bytes = writer.begin();
  for (const auto& delta :
       {delta_of(Kind::kContent, "a"), delta_of(Kind::kReasoning, "r"), delta_of(Kind::kContent, "b"),
        delta_of(Kind::kToolCallStart, "f", 0), delta_of(Kind::kContent, "c")})
    bytes += writer.delta(delta);
  bytes += writer.end(outcome_of({"r", "abc", {{"f", "{}"}}}, engine::FinishReason::kEosToken));
  const std::vector<SseEvent> events = parse_stream(bytes);
  std::vector<std::string> starts;
  int64_t expected_index = 0;
  int open = 0;
  for (const auto& event : events) {
    if (event.name == "content_block_start") {
      EXPECT_EQ(event.data["index"], expected_index++);
      EXPECT_EQ(open++, 0) << "blocks never overlap";
      starts.push_back(event.data["content_block"]["type"]);
    }
    if (event.name == "content_block_stop") --open;
  }
  EXPECT_EQ(open, 0);
  EXPECT_EQ(starts, (std::vector<std::string>{"text", "thinking", "text", "tool_use", "text"}));
}

TEST(AnthropicStream, StopSequenceIsReported) {
  AnthropicStreamWriter writer("m", 1);
  // One statement per call: the writer is stateful and `a + b` leaves their order unspecified.
  std::string bytes = writer.begin();
  bytes += writer.delta(delta_of(Kind::kContent, "x"));
  ChatOutcome stopped = outcome_of({"", "x", {}}, engine::FinishReason::kStopSequence);
  stopped.stop_sequence = "STOP";
  bytes += writer.end(stopped);
  const std::vector<SseEvent> events = parse_stream(bytes);
  EXPECT_EQ(events[events.size() - 2].data["delta"].dump(),
            R"({"stop_reason":"stop_sequence","stop_sequence":"STOP"})");
}

TEST(AnthropicStream, ArgumentsWithoutAStartAreKept) {
  AnthropicStreamWriter writer("m", 1);
  std::string bytes = writer.begin();
  bytes += writer.delta(delta_of(Kind::kToolCallArguments, R"({"a":1})", 0));
  bytes += writer.delta(delta_of(Kind::kToolCallArguments, "", 0));
  bytes += writer.end(outcome_of({"", "", {{"", R"({"a":1})"}}}, engine::FinishReason::kEosToken));
  const json message = accumulate(parse_stream(bytes));
  EXPECT_EQ(message["content"][0]["input"].dump(), R"({"a":1})");
}

TEST(AnthropicStream, ErrorIsAnErrorEventAndEndsTheStream) {
  AnthropicStreamWriter writer("m", 1);
  std::string bytes = writer.begin();
  bytes += writer.delta(delta_of(Kind::kContent, "partial"));
  const std::string error = writer.error("Request failed during generation: out of memory");
  EXPECT_EQ(
      error,
      "event: error\ndata: "
      R"({"type":"error","error":{"type":"api_error","message":"Request failed during generation: out of memory"}})"
      "\n\n");
  EXPECT_EQ(writer.delta(delta_of(Kind::kContent, "more")), "");
  EXPECT_EQ(writer.end(outcome_of({}, engine::FinishReason::kEosToken)), "");
  EXPECT_EQ(parse_stream(bytes + error).back().name, "error");
}

TEST(AnthropicStream, NothingAfterEnd) {
  AnthropicStreamWriter writer("m", 1);
  (void)writer.begin();
  (void)writer.end(outcome_of({}, engine::FinishReason::kEosToken));
  EXPECT_EQ(writer.delta(delta_of(Kind::kContent, "late")), "");
  EXPECT_EQ(writer.end(outcome_of({}, engine::FinishReason::kEosToken)), "");
  EXPECT_EQ(writer.error("late"), "");
}

}  // namespace
}  // namespace tgi::server
