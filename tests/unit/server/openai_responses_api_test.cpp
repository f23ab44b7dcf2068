// The Responses API adapter: requests become chat bodies our chat parser accepts, outcomes become
// Response objects, and streams are event sequences the openai-node SDK's accumulator folds into
// the same Response the non-streaming path returns.
#include "server/openai_responses_api.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/chat_request.h"

namespace tgi::server {
namespace {

using json = nlohmann::ordered_json;

json chat_body_of(const std::string& body) {
  auto chat = responses_to_chat_body(json::parse(body));
  EXPECT_TRUE(chat.ok()) << chat.error().message;
  return chat.ok() ? chat.value() : json();
}

// "" when the body translates, else the error's message (always kInvalidArgument).
std::string error_of(const json& body) {
  auto chat = responses_to_chat_body(body);
  if (chat.ok()) return "";
  EXPECT_EQ(chat.error().kind, ErrorKind::kInvalidArgument);
  return chat.error().message;
}
std::string error_of(const std::string& body) {
  return error_of(json::parse(body));
}

// Ids are random; keep their prefix ("msg_", "fc_", ...) so tests still see which kind they are.
json without_ids(json value) {
  if (value.is_object()) {
    for (auto& [key, item] : value.items()) {
      if ((key == "id" || key == "item_id" || key == "call_id") && item.is_string()) {
        const std::string id = item.get<std::string>();
        item = id.substr(0, id.find('_') + 1) + "*";
      } else {
        item = without_ids(item);
      }
    }
  } else if (value.is_array()) {
    for (auto& item : value) item = without_ids(item);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Request translation

TEST(ResponsesRequest, StringInputIsOneUserMessage) {
  EXPECT_EQ(chat_body_of(R"({"model":"m","input":"Hello"})"),
            json::parse(R"({"model":"m","messages":[{"role":"user","content":"Hello"}]})"));
}

TEST(ResponsesRequest, InstructionsLeadAsASystemMessage) {
  EXPECT_EQ(chat_body_of(R"({"instructions":"Be brief.","input":"Hello"})"),
            json::parse(R"({"messages":[{"role":"system","content":"Be brief."},
                                        {"role":"user","content":"Hello"}]})"));
}

TEST(ResponsesRequest, MessageItemsWithOrWithoutTypeKeepTheirText) {
  const json chat = chat_body_of(R"({"input":[
      {"role":"developer","content":"Rules."},
      {"role":"system","content":"More rules."},
      {"type":"message","role":"user","content":[{"type":"input_text","text":"Hi "},
                                                 {"type":"input_text","text":"there"}]},
      {"type":"message","id":"msg_1","status":"completed","role":"assistant",
       "content":[{"type":"output_text","text":"Hello!","annotations":[]}]},
      {"role":"assistant","content":[{"type":"refusal","refusal":"No."}]},
      {"role":"user","content":"Again"}]})");
  EXPECT_EQ(chat["messages"], json::parse(R"([
      {"role":"developer","content":"Rules."},
      {"role":"system","content":"More rules."},
      {"role":"user","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]},
      {"role":"assistant","content":[{"type":"text","text":"Hello!"}]},
      {"role":"assistant","content":[{"type":"text","text":"No."}]},
      {"role":"user","content":"Again"}])"));
}

TEST(ResponsesRequest, ConsecutiveFunctionCallsAreOneAssistantTurn) {
  const json chat = chat_body_of(R"({"input":[
      {"role":"user","content":"Weather in Paris and Rome?"},
      {"type":"reasoning","id":"rs_1","summary":[]},
      {"type":"function_call","id":"fc_1","call_id":"call_a","name":"weather",
        "arguments":"{\"city\":\"Paris\"}"},
      {"type":"reasoning","id":"rs_2","summary":[]},
      {"type":"function_call","call_id":"call_b","name":"weather","arguments":"{\"city\":\"Rome\"}",
       "status":"completed"},
      {"type":"function_call_output","call_id":"call_a","output":"18C"},
      {"type":"function_call_output","call_id":"call_b","output":[{"type":"input_text","text":"21C"}]},
      {"type":"function_call","call_id":"call_c","name":"clock","arguments":"{}"},
      {"type":"function_call_output","call_id":"call_c","output":"noon"}]})");
  EXPECT_EQ(chat["messages"], json::parse(R"([
      {"role":"user","content":"Weather in Paris and Rome?"},
      {"role":"assistant","tool_calls":[
        {"id":"call_a","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}},
        {"id":"call_b","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}}]},
      {"role":"tool","tool_call_id":"call_a","content":"18C"},
      {"role":"tool","tool_call_id":"call_b","content":[{"type":"text","text":"21C"}]},
      {"role":"assistant","tool_calls":[
        {"id":"call_c","type":"function","function":{"name":"clock","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"call_c","content":"noon"}])"));
}

TEST(ResponsesRequest, AMessageBetweenCallsStartsANewTurn) {
  const json chat = chat_body_of(R"({"input":[
      {"type":"function_call","call_id":"a","name":"f","arguments":"{}"},
      {"role":"assistant","content":"thinking aloud"},
      {"type":"function_call","call_id":"b","name":"f","arguments":"{}"}]})");
  ASSERT_EQ(chat["messages"].size(), 3u);
  EXPECT_EQ(chat["messages"][0]["tool_calls"].size(), 1u);
  EXPECT_EQ(chat["messages"][2]["tool_calls"][0]["id"], "b");
}

TEST(ResponsesRequest, FunctionToolsAndToolChoiceBecomeChatTools) {
  const json chat = chat_body_of(R"({"input":"x","tools":[
      {"type":"function","name":"weather","description":"Looks it up.",
       "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},
         "strict":true},
      {"type":"function","name":"clock","parameters":null,"strict":null}],
      "tool_choice":{"type":"function","name":"weather"},"parallel_tool_calls":false})");
  EXPECT_EQ(chat["tools"], json::parse(R"([
      {"type":"function","function":{"name":"weather","description":"Looks it up.",
        "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},
          "strict":true}},
      {"type":"function","function":{"name":"clock","parameters":{"type":"object","properties":{}}}}])"));
  EXPECT_EQ(chat["tool_choice"], json::parse(R"({"type":"function","function":{"name":"weather"}})"));
  EXPECT_EQ(chat["parallel_tool_calls"], false);
  for (const char* mode : {"auto", "none", "required"})
    EXPECT_EQ(chat_body_of(fmt::format(R"({{"input":"x","tool_choice":"{}"}})", mode))["tool_choice"], mode);
}

TEST(ResponsesRequest, SamplingSettingsMapOntoChatNames) {
  const json chat = chat_body_of(R"({"model":"m","input":"x","max_output_tokens":64,"temperature":0.5,
      "top_p":0.9,"stream":true,"reasoning":{"effort":"low","summary":"auto"}})");
  EXPECT_EQ(chat, json::parse(R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":64,
      "temperature":0.5,"top_p":0.9,"stream":true,"reasoning_effort":"low"})"));
}

TEST(ResponsesRequest, EmptyArgumentsAreNoArguments) {
  const json chat =
      chat_body_of(R"({"input":[{"type":"function_call","call_id":"c","name":"f","arguments":" "}]})");
  EXPECT_EQ(chat["messages"][0]["tool_calls"][0]["function"]["arguments"], "{}");
}

TEST(ResponsesRequest, EffortsAboveHighAskForHigh) {
  for (const char* effort : {"none", "minimal", "low", "medium", "high"})
    EXPECT_EQ(chat_body_of(fmt::format(R"({{"input":"x","reasoning":{{"effort":"{}"}}}})",
                                       effort))["reasoning_effort"],
              effort);
  EXPECT_EQ(chat_body_of(R"({"input":"x","reasoning":{"effort":"xhigh"}})")["reasoning_effort"], "high");
  EXPECT_EQ(chat_body_of(R"({"input":"x","reasoning":{"effort":"max"}})")["reasoning_effort"], "high");
}

TEST(ResponsesRequest, TextFormatBecomesResponseFormat) {
  EXPECT_FALSE(
      chat_body_of(R"({"input":"x","text":{"format":{"type":"text"}}})").contains("response_format"));
  EXPECT_FALSE(chat_body_of(R"({"input":"x","text":{"verbosity":"low"}})").contains("response_format"));
  EXPECT_EQ(chat_body_of(R"({"input":"x","text":{"format":{"type":"json_object"}}})")["response_format"],
            json::parse(R"({"type":"json_object"})"));
  EXPECT_EQ(chat_body_of(R"({"input":"x","text":{"format":{"type":"json_schema","name":"point",
                "description":"A point.","schema":{"type":"object"},"strict":true}}})")["response_format"],
            json::parse(R"({"type":"json_schema","json_schema":{"name":"point","description":"A point.",
                "schema":{"type":"object"},"strict":true}})"));
}

TEST(ResponsesRequest, StatelessAndBookkeepingFieldsAreAcceptedAndIgnored) {
  EXPECT_EQ(chat_body_of(R"({"input":"x","store":true,"metadata":{"k":"v"},"user":"u","truncation":"auto",
      "include":["reasoning.encrypted_content"],"service_tier":"auto","background":false,
      "previous_response_id":null,"conversation":null,"prompt":null,"stream_options":{},
      "prompt_cache_key":"k","safety_identifier":"s","top_logprobs":0,"unknown_field":[1]})"),
            json::parse(R"({"messages":[{"role":"user","content":"x"}]})"));
}

TEST(ResponsesRequest, NullMeansUnset) {
  EXPECT_EQ(chat_body_of(R"({"model":null,"instructions":null,"input":"x","tools":null,"tool_choice":null,
      "parallel_tool_calls":null,"max_output_tokens":null,"temperature":null,"top_p":null,"stream":null,
      "text":null,"reasoning":{"effort":null}})"),
            json::parse(R"({"messages":[{"role":"user","content":"x"}]})"));
}

TEST(ResponsesRequest, EveryErrorNamesItsField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"([1])", "body: expected a JSON object, got array"},
      {R"({"input":"x","previous_response_id":"resp_1"})",
       "previous_response_id: not supported: this server keeps no response state"},
      {R"({"input":"x","conversation":"conv_1"})",
       "conversation: not supported: this server keeps no response state"},
      {R"({"input":"x","conversation":{"id":"conv_1"}})",
       "conversation: not supported: this server keeps no response state"},
      {R"({"input":"x","background":true})",
       "background: not supported: this server keeps no response state"},
      {R"({"input":"x","background":"yes"})", "background: expected a boolean, got string"},
      {R"({"input":"x","prompt":{"id":"pmpt_1"}})",
       "prompt: not supported: this server keeps no stored prompt templates"},
      {R"({"input":"x","model":3})", "model: expected a string, got number"},
      {R"({"input":"x","instructions":["a"]})", "instructions: expected a string, got array"},
      {R"({})", "input: missing"},
      {R"({"input":null})", "input: missing"},
      {R"({"input":[]})", "input: holds no message to answer"},
      {R"({"input":[{"type":"reasoning","summary":[]}]})", "input: holds no message to answer"},
      {R"({"input":7})", "input: expected a string or a list of items, got number"},
      {R"({"input":["hi"]})", "input[0]: expected an input item object, got string"},
      {R"({"input":[{"type":1}]})", "input[0].type: expected a string, got number"},
      {R"({"input":[{"content":"x"}]})", "input[0].role: missing"},
      {R"({"input":[{"role":"tool","content":"x"}]})",
       "input[0].role: unknown role `tool`, expected user, assistant, system or developer"},
      {R"({"input":[{"role":"user"}]})", "input[0].content: missing"},
      {R"({"input":[{"role":"user","content":{}}]})",
       "input[0].content: expected a string or a list of content parts, got object"},
      {R"({"input":[{"role":"user","content":["x"]}]})",
       "input[0].content[0]: expected a content part object, got string"},
      {R"({"input":[{"role":"user","content":[{"text":"x"}]}]})", "input[0].content[0].type: missing"},
      {R"({"input":[{"role":"user","content":[{"type":"input_text"}]}]})",
       "input[0].content[0].text: missing"},
      {R"({"input":[{"role":"user","content":[{"type":"input_text","text":1}]}]})",
       "input[0].content[0].text: expected a string, got number"},
      {R"({"input":[{"role":"user","content":[{"type":"input_text","text":"a"},
           {"type":"input_image","image_url":"https://x/y.png"}]}]})",
       "input[0].content[1]: `input_image` parts are not supported: this server reads text only"},
      {R"({"input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]})",
       "input[0].content[0]: `input_file` parts are not supported: this server reads text only"},
      {R"({"input":[{"role":"user","content":[{"type":"input_audio"}]}]})",
       "input[0].content[0]: `input_audio` parts are not supported: this server reads text only"},
      {R"({"input":[{"role":"user","content":[{"type":"video"}]}]})",
       "input[0].content[0].type: unknown content part type `video`"},
      {R"({"input":[{"type":"function_call","name":"f","arguments":"{}"}]})", "input[0].call_id: missing"},
      {R"({"input":[{"type":"function_call","call_id":"c","arguments":"{}"}]})", "input[0].name: missing"},
      {R"({"input":[{"type":"function_call","call_id":"c","name":"f"}]})", "input[0].arguments: missing"},
      {R"({"input":[{"type":"function_call","call_id":"c","name":"f","arguments":{}}]})",
       "input[0].arguments: expected a string, got object"},
      {R"({"input":[{"type":"function_call","call_id":"c","name":"f","arguments":"[1]"}]})",
       "input[0].arguments: expected a JSON object as text"},
      {R"({"input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{\"a\":"}]})",
       "input[0].arguments: expected a JSON object as text"},
      {R"({"input":[{"type":"function_call_output","output":"x"}]})", "input[0].call_id: missing"},
      {R"({"input":[{"type":"function_call_output","call_id":"c"}]})", "input[0].output: missing"},
      {R"({"input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_image"}]}]})",
       "input[0].output[0]: `input_image` parts are not supported: this server reads text only"},
      {R"({"input":[{"type":"item_reference","id":"msg_1"}]})",
       "input[0]: `item_reference` items are not supported: this server keeps no response state"},
      {R"({"input":[{"type":"web_search_call","id":"ws_1"}]})",
       "input[0].type: `web_search_call` items are not supported: this server takes messages, function calls "
       "and function call outputs"},
      {R"({"input":"x","tools":{}})", "tools: expected a list of tools, got object"},
      {R"({"input":"x","tools":[1]})", "tools[0]: expected a tool object, got number"},
      {R"({"input":"x","tools":[{"name":"f"}]})", "tools[0].type: missing"},
      {R"({"input":"x","tools":[{"type":"function","name":"f"},{"type":"web_search"}]})",
       "tools[1].type: `web_search` tools are not supported: this server runs function tools only"},
      {R"({"input":"x","tools":[{"type":"file_search","vector_store_ids":[]}]})",
       "tools[0].type: `file_search` tools are not supported: this server runs function tools only"},
      {R"({"input":"x","tools":[{"type":"function"}]})", "tools[0].name: missing"},
      {R"({"input":"x","tools":[{"type":"function","name":""}]})", "tools[0].name: empty"},
      {R"({"input":"x","tools":[{"type":"function","name":"f","description":2}]})",
       "tools[0].description: expected a string, got number"},
      {R"({"input":"x","tools":[{"type":"function","name":"f","parameters":"{}"}]})",
       "tools[0].parameters: expected a JSON schema object, got string"},
      {R"({"input":"x","tools":[{"type":"function","name":"f","strict":"yes"}]})",
       "tools[0].strict: expected a boolean, got string"},
      {R"({"input":"x","tool_choice":"any"})",
       "tool_choice: unknown mode `any`, expected auto, none or required"},
      {R"({"input":"x","tool_choice":1})", "tool_choice: expected a string or an object, got number"},
      {R"({"input":"x","tool_choice":{"name":"f"}})", "tool_choice.type: missing"},
      {R"({"input":"x","tool_choice":{"type":"function"}})", "tool_choice.name: missing"},
      {R"({"input":"x","tool_choice":{"type":"web_search_preview"}})",
       "tool_choice.type: `web_search_preview` is not supported: this server runs function tools only"},
      {R"({"input":"x","tool_choice":{"type":"allowed_tools","mode":"auto","tools":[]}})",
       "tool_choice.type: `allowed_tools` is not supported: this server runs function tools only"},
      {R"({"input":"x","parallel_tool_calls":1})", "parallel_tool_calls: expected a boolean, got number"},
      {R"({"input":"x","max_output_tokens":-1})",
       "max_output_tokens: expected a token count from 0 to 4294967295, got -1"},
      {R"({"input":"x","max_output_tokens":1.5})",
       "max_output_tokens: expected a token count from 0 to 4294967295, got 1.5"},
      {R"({"input":"x","max_output_tokens":4294967296})",
       "max_output_tokens: expected a token count from 0 to 4294967295, got 4294967296"},
      {R"({"input":"x","max_output_tokens":"10"})",
       "max_output_tokens: expected a token count from 0 to 4294967295, got \"10\""},
      {R"({"input":"x","temperature":"hot"})", "temperature: expected a number, got string"},
      {R"({"input":"x","top_p":[]})", "top_p: expected a number, got array"},
      {R"({"input":"x","stream":"true"})", "stream: expected a boolean, got string"},
      {R"({"input":"x","text":"json"})", "text: expected an object, got string"},
      {R"({"input":"x","text":{"format":"json"}})", "text.format: expected an object, got string"},
      {R"({"input":"x","text":{"format":{}}})", "text.format.type: missing"},
      {R"({"input":"x","text":{"format":{"type":"yaml"}}})",
       "text.format.type: unknown format `yaml`, expected text, json_object or json_schema"},
      {R"({"input":"x","text":{"format":{"type":"json_schema","schema":{}}}})", "text.format.name: missing"},
      {R"({"input":"x","text":{"format":{"type":"json_schema","name":"n"}}})", "text.format.schema: missing"},
      {R"({"input":"x","text":{"format":{"type":"json_schema","name":"n","schema":[]}}})",
       "text.format.schema: expected a JSON schema object, got array"},
      {R"({"input":"x","text":{"format":{"type":"json_schema","name":"n","schema":{},"strict":1}}})",
       "text.format.strict: expected a boolean, got number"},
      {R"({"input":"x","text":{"format":{"type":"json_schema","name":"n","schema":{},"description":1}}})",
       "text.format.description: expected a string, got number"},
      {R"({"input":"x","reasoning":"high"})", "reasoning: expected an object, got string"},
      {R"({"input":"x","reasoning":{"effort":3}})", "reasoning.effort: expected a string, got number"},
      {R"({"input":"x","reasoning":{"effort":"extreme"}})",
       "reasoning.effort: unknown effort `extreme`, expected none, minimal, low, medium, high, xhigh or max"},
  };
  for (const auto& [body, message] : cases) EXPECT_EQ(error_of(body), message) << body;
}

TEST(ResponsesRequest, TheChatParserAcceptsWhatTranslationGives) {
  const json chat = chat_body_of(R"({"model":"m","instructions":"Be brief.","input":[
      {"role":"developer","content":[{"type":"input_text","text":"Rules."}]},
      {"role":"user","content":"Weather?"},
      {"type":"function_call","call_id":"call_a","name":"weather","arguments":"{\"city\":\"Paris\"}"},
      {"type":"function_call","call_id":"call_b","name":"weather","arguments":"{\"city\":\"Rome\"}"},
      {"type":"function_call_output","call_id":"call_a","output":"18C"},
      {"type":"function_call_output","call_id":"call_b","output":[{"type":"input_text","text":"21C"}]},
      {"role":"assistant","content":[{"type":"output_text","text":"Mild."}]},
      {"role":"user","content":"Thanks"}],
      "tools":[{"type":"function","name":"weather","parameters":{"type":"object"},"strict":true},
               {"type":"function","name":"clock"}],
      "tool_choice":"required","max_output_tokens":32,"temperature":0.2,"top_p":0.8,"stream":true})");
  auto request = parse_chat_request(chat);
  ASSERT_TRUE(request.ok()) << request.error().message;
  EXPECT_EQ(request->model, "m");
  EXPECT_EQ(request->max_tokens, 32u);
  EXPECT_TRUE(request->stream);
  ASSERT_TRUE(request->tools);
  EXPECT_EQ(request->tools->size(), 2u);
  EXPECT_EQ((*request->tools)[1].parameters, json::parse(R"({"type":"object","properties":{}})"));
  for (const bool template_uses_tools : {false, true}) {
    ChatTraits traits;
    traits.uses_tools = template_uses_tools;
    auto plan = plan_chat_prompt(*request, traits);
    ASSERT_TRUE(plan.ok()) << plan.error().message;
    EXPECT_EQ(plan->prompt.messages.size(), 8u);
  }

  auto structured = parse_chat_request(chat_body_of(
      R"({"input":"x","text":{"format":{"type":"json_schema","name":"n","schema":{"type":"object"}}}})"));
  ASSERT_TRUE(structured.ok()) << structured.error().message;
  EXPECT_TRUE(structured->response_format);
  auto named_choice = parse_chat_request(chat_body_of(
      R"({"input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function",
        "name":"f"}})"));
  ASSERT_TRUE(named_choice.ok()) << named_choice.error().message;
}

// Every field set to every kind of JSON value, at the top and inside items: an error or a body the
// chat parser accepts, never an exception.
TEST(ResponsesRequest, HostileBodiesGiveErrorsNotExceptions) {
  const std::vector<json> values = {
      nullptr,
      true,
      -1,
      4294967296ull,
      0.5,
      "",
      "x",
      json::array(),
      json::array({1, "a", nullptr}),
      json::object(),
      json::parse(R"({"type":"function","name":"f","role":"user","content":[]})"),
      json::parse(R"([{"type":"message"},{"type":"function_call"},{"type":{}}])"),
      std::string("\xff\xfe")};
  const std::vector<std::string> fields = {"model",
                                           "instructions",
                                           "input",
                                           "tools",
                                           "tool_choice",
                                           "parallel_tool_calls",
                                           "max_output_tokens",
                                           "temperature",
                                           "top_p",
                                           "stream",
                                           "text",
                                           "reasoning",
                                           "previous_response_id",
                                           "conversation",
                                           "background",
                                           "prompt",
                                           "store",
                                           "metadata",
                                           "include"};
  auto show = [](const json& body) { return body.dump(-1, ' ', false, json::error_handler_t::replace); };
  auto check = [&show](const json& body) {
    EXPECT_NO_THROW({
      auto chat = responses_to_chat_body(body);
      if (chat.ok()) {
        auto parsed = parse_chat_request(chat.value());
        EXPECT_TRUE(parsed.ok()) << show(body) << " → " << parsed.error().message;
      } else {
        EXPECT_FALSE(chat.error().message.empty());
      }
      (void)responses_request_echo(body);
    }) << show(body);
  };
  for (const json& value : values) {
    check(value);
    for (const std::string& field : fields) {
      json body = {{"input", "x"}};
      body[field] = value;
      check(body);
    }
    for (const char* item_field : {"type", "role", "content", "call_id", "name", "arguments", "output"}) {
      for (const char* base : {R"({"role":"user","content":"x"})",
                               R"({"type":"function_call","call_id":"c","name":"f","arguments":"{}"})",
                               R"({"type":"function_call_output","call_id":"c","output":"x"})"}) {
        json item = json::parse(base);
        item[item_field] = value;
        check(json{{"input", json::array({item})}});
        json part = {{"type", "input_text"}, {"text", "x"}};
        part[item_field] = value;
        check(json{{"input", json::array({json{{"role", "user"}, {"content", json::array({part})}}})}});
      }
      json tool = json::parse(R"({"type":"function","name":"f"})");
      tool[item_field] = value;
      check(json{{"input", "x"}, {"tools", json::array({tool})}});
      json format = json::parse(R"({"type":"json_schema","name":"n","schema":{}})");
      format[item_field] = value;
      check(json{{"input", "x"}, {"text", {{"format", format}}}});
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The Response object

ResponsesContext test_context(const json& body = json::parse(R"({"input":"x"})")) {
  ResponsesContext context = make_responses_context(body, "test-model", 1700000000);
  return context;
}

ChatOutcome full_outcome() {
  ChatOutcome outcome;
  outcome.output.reasoning = "Think first.";
  outcome.output.content = "Checking both.";
  outcome.output.tool_calls = {{"weather", R"({"city":"Paris"})"}, {"weather", R"({"city":"Rome"})"}};
  outcome.finish_reason = engine::FinishReason::kEosToken;
  outcome.usage = {.prompt_tokens = 30, .completion_tokens = 12, .cached_prompt_tokens = 8};
  return outcome;
}

TEST(ResponsesObject, CarriesEveryItemUsageAndTheEchoedRequest) {
  const json body = json::parse(R"({"input":"x","instructions":"Be brief.","temperature":0.5,
      "tools":[{"type":"function","name":"weather","parameters":{"type":"object"}}],"tool_choice":"required",
      "metadata":{"k":"v"},"max_output_tokens":100})");
  const ResponsesContext context = test_context(body);
  EXPECT_TRUE(context.id.starts_with("resp_"));
  const json object = json::parse(responses_object_json(context, full_outcome()));
  EXPECT_EQ(without_ids(object), json::parse(R"({
      "id":"resp_*","object":"response","created_at":1700000000,"status":"completed","background":false,
      "error":null,"incomplete_details":null,"instructions":"Be brief.","max_output_tokens":100,
      "model":"test-model",
      "output":[
        {"type":"reasoning","id":"rs_*","summary":[],"content":[{"type":"reasoning_text",
          "text":"Think first."}]},
        {"type":"message","id":"msg_*","status":"completed","role":"assistant",
         "content":[{"type":"output_text","text":"Checking both.","annotations":[],"logprobs":[]}]},
        {"type":"function_call","id":"fc_*","call_id":"call_*","name":"weather",
         "arguments":"{\"city\":\"Paris\"}","status":"completed"},
        {"type":"function_call","id":"fc_*","call_id":"call_*","name":"weather",
         "arguments":"{\"city\":\"Rome\"}","status":"completed"}],
      "parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},
      "store":false,"temperature":0.5,"text":{"format":{"type":"text"}},"tool_choice":"required",
      "tools":[{"type":"function","name":"weather","description":null,
        "parameters":{"type":"object"},"strict":null}],
      "top_p":1.0,"truncation":"disabled",
      "usage":{"input_tokens":30,"input_tokens_details":{"cached_tokens":8,"cache_write_tokens":0},
               "output_tokens":12,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":42},
      "metadata":{"k":"v"}})"));
  // Every item id is distinct, and so are the call ids the client answers with.
  std::set<std::string> ids;
  for (const json& item : object["output"]) {
    EXPECT_TRUE(ids.insert(item["id"].get<std::string>()).second);
    if (item.contains("call_id")) {
      EXPECT_TRUE(ids.insert(item["call_id"].get<std::string>()).second);
    }
  }
  EXPECT_EQ(ids.size(), 6u);
}

TEST(ResponsesObject, OnlyTheItemsTheOutputHas) {
  ChatOutcome outcome;
  outcome.output.content = "Hi.";
  outcome.finish_reason = engine::FinishReason::kStopSequence;
  json object = responses_object(test_context(), outcome);
  ASSERT_EQ(object["output"].size(), 1u);
  EXPECT_EQ(object["output"][0]["type"], "message");
  EXPECT_EQ(object["status"], "completed");

  outcome.output.content.clear();
  outcome.output.tool_calls = {{"f", "{}"}};
  object = responses_object(test_context(), outcome);
  ASSERT_EQ(object["output"].size(), 1u);
  EXPECT_EQ(object["output"][0]["type"], "function_call");
  EXPECT_EQ(object["output"][0]["arguments"], "{}");

  outcome.output.tool_calls.clear();
  EXPECT_EQ(responses_object(test_context(), outcome)["output"], json::array());
}

TEST(ResponsesObject, TheLengthLimitMakesItIncomplete) {
  ChatOutcome outcome = full_outcome();
  outcome.finish_reason = engine::FinishReason::kLength;
  const json object = responses_object(test_context(), outcome);
  EXPECT_EQ(object["status"], "incomplete");
  EXPECT_EQ(object["incomplete_details"], json::parse(R"({"reason":"max_output_tokens"})"));
  EXPECT_EQ(object["output"][1]["status"], "completed");
  EXPECT_EQ(object["output"][2]["status"], "completed");
  EXPECT_EQ(object["output"][3]["status"], "incomplete");  // the call being written when it stopped

  outcome.output.tool_calls.clear();
  EXPECT_EQ(responses_object(test_context(), outcome)["output"][1]["status"], "incomplete");
}

TEST(ResponsesObject, EchoDefaultsAndNormalizedTools) {
  EXPECT_EQ(responses_request_echo(json::parse(R"({"input":"x"})")), json::parse(R"({
      "instructions":null,"max_output_tokens":null,"parallel_tool_calls":true,
      "reasoning":{"effort":null,"summary":null},"temperature":1.0,"text":{"format":{"type":"text"}},
      "tool_choice":"auto","tools":[],"top_p":1.0,"metadata":{}})"));
  const json echo = responses_request_echo(json::parse(R"({"input":"x","parallel_tool_calls":false,
      "reasoning":{"effort":"high"},"text":{"verbosity":"low"},"top_p":null,
      "tool_choice":{"type":"function","name":"f"},
      "tools":[{"type":"function","name":"f","description":"d","parameters":{"type":"object"},
        "strict":true}]})"));
  EXPECT_EQ(echo["parallel_tool_calls"], false);
  EXPECT_EQ(echo["reasoning"], json::parse(R"({"effort":"high"})"));
  EXPECT_EQ(echo["text"], json::parse(R"({"verbosity":"low","format":{"type":"text"}})"));
  EXPECT_EQ(echo["top_p"], 1.0);
  EXPECT_EQ(echo["tool_choice"], json::parse(R"({"type":"function","name":"f"})"));
  EXPECT_EQ(echo["tools"],
            json::parse(
                R"([{"type":"function","name":"f","description":"d","parameters":{"type":"object"},
            "strict":true}])"));
  // A context without an echo still gives every field.
  const json bare = responses_in_progress_object(ResponsesContext{"resp_1", "m", 5, json()});
  EXPECT_EQ(bare["tools"], json::array());
  EXPECT_EQ(bare["tool_choice"], "auto");
}

TEST(ResponsesObject, InProgressHasNoOutputOrUsage) {
  const json object = responses_in_progress_object(test_context());
  EXPECT_EQ(object["status"], "in_progress");
  EXPECT_EQ(object["output"], json::array());
  EXPECT_TRUE(object["usage"].is_null());
  EXPECT_TRUE(object["incomplete_details"].is_null());
  EXPECT_EQ(object["object"], "response");
}

// ---------------------------------------------------------------------------------------------
// Streaming

struct SseEvent {
  std::string name;
  json data;
};

// Splits SSE bytes into events; every event must be "event: <type>\ndata: <json>\n\n" with the
// name equal to the JSON's type.
std::vector<SseEvent> parse_sse(const std::string& bytes) {
  std::vector<SseEvent> events;
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t end = bytes.find("\n\n", at);
    EXPECT_NE(end, std::string::npos) << "unterminated event";
    if (end == std::string::npos) break;
    const std::string block = bytes.substr(at, end - at);
    at = end + 2;
    const size_t newline = block.find('\n');
    EXPECT_TRUE(block.starts_with("event: ")) << block;
    EXPECT_NE(newline, std::string::npos) << block;
    if (newline == std::string::npos) continue;
    SseEvent event;
    event.name = block.substr(7, newline - 7);
    const std::string data_line = block.substr(newline + 1);
    EXPECT_TRUE(data_line.starts_with("data: ")) << block;
    EXPECT_EQ(data_line.find('\n'), std::string::npos) << "one data line per event";
    event.data = json::parse(data_line.substr(6));
    EXPECT_EQ(event.data["type"], event.name);
    events.push_back(std::move(event));
  }
  return events;
}

chat::OutputDelta text_delta(chat::OutputDelta::Kind kind, std::string text, size_t tool_index = 0) {
  chat::OutputDelta delta;
  delta.kind = kind;
  delta.text = std::move(text);
  delta.tool_index = tool_index;
  return delta;
}

using Kind = chat::OutputDelta::Kind;

// A model that thinks, answers, then calls two tools, split into uneven pieces.
std::vector<chat::OutputDelta> full_deltas() {
  return {text_delta(Kind::kReasoning, "Think "),
          text_delta(Kind::kReasoning, "first."),
          text_delta(Kind::kContent, "Checking"),
          text_delta(Kind::kContent, ""),
          text_delta(Kind::kContent, " both."),
          text_delta(Kind::kToolCallStart, "weather", 0),
          text_delta(Kind::kToolCallArguments, R"({"city":)", 0),
          text_delta(Kind::kToolCallArguments, R"("Paris"})", 0),
          text_delta(Kind::kToolCallStart, "weather", 1),
          text_delta(Kind::kToolCallArguments, R"({"city":"Rome"})", 1)};
}

std::string stream_all(ResponsesStreamWriter& writer, const std::vector<chat::OutputDelta>& deltas,
                       const ChatOutcome& outcome) {
  std::string bytes = writer.begin();
  for (const auto& delta : deltas) bytes += writer.delta(delta);
  bytes += writer.end(outcome);
  return bytes;
}

// What responses.stream(...) in openai-node does with each event (its response accumulator),
// with the checks it makes: events must name existing items and parts in order, item ids and call
// ids must be unique and stable, and done events replace what the deltas built.
class SdkAccumulator {
 public:
  void add(const json& event) {
    const std::string type = event["type"];
    if (!snapshot_) {
      ASSERT_EQ(type, "response.created") << "the first event must create the response";
      snapshot_ = event["response"];
      return;
    }
    if (type == "response.in_progress" || type == "response.completed" || type == "response.incomplete") {
      snapshot_ = event["response"];
      return;
    }
    json& output = (*snapshot_)["output"];
    const size_t output_index = event["output_index"].get<size_t>();
    if (type == "response.output_item.added") {
      ASSERT_EQ(output_index, output.size()) << "items are appended in order";
      const json& item = event["item"];
      ASSERT_TRUE(item["id"].is_string() && !item["id"].get<std::string>().empty());
      ASSERT_TRUE(identities_.insert("id:" + item["id"].get<std::string>()).second) << "duplicate item id";
      if (item["type"] == "function_call") {
        ASSERT_TRUE(item["call_id"].is_string() && !item["call_id"].get<std::string>().empty());
        ASSERT_TRUE(identities_.insert("call:" + item["call_id"].get<std::string>()).second);
      }
      output.push_back(item);
      return;
    }
    ASSERT_LT(output_index, output.size()) << type;
    json& item = output[output_index];
    if (type == "response.output_item.done") {
      ASSERT_EQ(event["item"]["type"], item["type"]);
      ASSERT_EQ(event["item"]["id"], item["id"]);
      ASSERT_EQ(event["item"].value("call_id", json()), item.value("call_id", json()));
      item = event["item"];
      return;
    }
    ASSERT_EQ(event["item_id"], item["id"]) << type;
    const std::string expected_item_type =
        type.starts_with("response.function_call_arguments") ? "function_call"
        : type.starts_with("response.reasoning_text")        ? "reasoning"
        : type.starts_with("response.content_part")
            ? (event["part"]["type"] == "reasoning_text" ? "reasoning" : "message")
            : "message";
    ASSERT_EQ(item["type"], expected_item_type) << type;
    if (type == "response.function_call_arguments.delta") {
      item["arguments"] = item["arguments"].get<std::string>() + event["delta"].get<std::string>();
      return;
    }
    if (type == "response.function_call_arguments.done") {
      item["arguments"] = event["arguments"];
      return;
    }
    json& content = item["content"];
    const size_t content_index = event["content_index"].get<size_t>();
    if (type == "response.content_part.added") {
      ASSERT_EQ(content_index, content.size());
      content.push_back(event["part"]);
      return;
    }
    ASSERT_LT(content_index, content.size()) << type;
    json& part = content[content_index];
    if (type == "response.content_part.done") {
      part = event["part"];
    } else if (type == "response.output_text.delta" || type == "response.reasoning_text.delta") {
      ASSERT_EQ(part["type"], type == "response.output_text.delta" ? "output_text" : "reasoning_text");
      part["text"] = part["text"].get<std::string>() + event["delta"].get<std::string>();
    } else if (type == "response.output_text.done" || type == "response.reasoning_text.done") {
      part["text"] = event["text"];
    } else {
      FAIL() << "an event the accumulator does not know: " << type;
    }
  }
  const json& snapshot() const { return *snapshot_; }

 private:
  std::optional<json> snapshot_;
  std::set<std::string> identities_;
};

TEST(ResponsesStream, EmitsTheFullEventSequenceInOrder) {
  const ResponsesContext context = test_context();
  ResponsesStreamWriter writer(context);
  const std::vector<SseEvent> events = parse_sse(stream_all(writer, full_deltas(), full_outcome()));

  std::vector<std::string> types;
  for (const auto& event : events) types.push_back(event.name);
  EXPECT_EQ(types, (std::vector<std::string>{
                       "response.created",
                       "response.in_progress",
                       // output 0: reasoning
                       "response.output_item.added",
                       "response.content_part.added",
                       "response.reasoning_text.delta",
                       "response.reasoning_text.delta",
                       "response.reasoning_text.done",
                       "response.content_part.done",
                       "response.output_item.done",
                       // output 1: message (the empty delta says nothing)
                       "response.output_item.added",
                       "response.content_part.added",
                       "response.output_text.delta",
                       "response.output_text.delta",
                       "response.output_text.done",
                       "response.content_part.done",
                       "response.output_item.done",
                       // outputs 2 and 3: calls
                       "response.output_item.added",
                       "response.function_call_arguments.delta",
                       "response.function_call_arguments.delta",
                       "response.function_call_arguments.done",
                       "response.output_item.done",
                       "response.output_item.added",
                       "response.function_call_arguments.delta",
                       "response.function_call_arguments.done",
                       "response.output_item.done",
                       "response.completed",
                   }));
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].data["sequence_number"], i);

  // Item events name their item by output index and id, in the order items opened.
  const std::vector<size_t> output_index_of = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1,
                                               1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3};
  std::map<size_t, std::string> item_ids;
  for (size_t i = 2; i + 1 < events.size(); ++i) {
    const json& data = events[i].data;
    EXPECT_EQ(data["output_index"], output_index_of[i - 2]) << i;
    const size_t output_index = data["output_index"];
    if (events[i].name == "response.output_item.added") item_ids[output_index] = data["item"]["id"];
    if (data.contains("item_id")) {
      EXPECT_EQ(data["item_id"], item_ids[output_index]) << i;
    }
    if (data.contains("content_index")) {
      EXPECT_EQ(data["content_index"], 0);
    }
  }
  EXPECT_TRUE(item_ids[0].starts_with("rs_"));
  EXPECT_TRUE(item_ids[1].starts_with("msg_"));
  EXPECT_TRUE(item_ids[2].starts_with("fc_"));

  // Opening events say nothing yet; deltas carry the pieces; done events carry the whole.
  EXPECT_EQ(without_ids(events[0].data["response"]), without_ids(responses_in_progress_object(context)));
  EXPECT_EQ(events[1].data["response"], events[0].data["response"]);
  EXPECT_EQ(without_ids(events[2].data["item"]),
            json::parse(R"({"type":"reasoning","id":"rs_*","summary":[],"content":[]})"));
  EXPECT_EQ(events[3].data["part"], json::parse(R"({"type":"reasoning_text","text":""})"));
  EXPECT_EQ(events[4].data["delta"], "Think ");
  EXPECT_EQ(events[6].data["text"], "Think first.");
  EXPECT_EQ(events[7].data["part"], json::parse(R"({"type":"reasoning_text","text":"Think first."})"));
  EXPECT_EQ(without_ids(events[9].data["item"]),
            json::parse(
                R"({"type":"message","id":"msg_*","status":"in_progress","role":"assistant","content":[]})"));
  EXPECT_EQ(events[10].data["part"],
            json::parse(R"({"type":"output_text","text":"","annotations":[],"logprobs":[]})"));
  EXPECT_EQ(without_ids(events[11].data),
            json::parse(R"({"type":"response.output_text.delta","sequence_number":11,
      "item_id":"msg_*","output_index":1,"content_index":0,"delta":"Checking","logprobs":[]})"));
  EXPECT_EQ(events[13].data["text"], "Checking both.");
  EXPECT_EQ(events[13].data["logprobs"], json::array());
  EXPECT_EQ(events[14].data["part"]["text"], "Checking both.");
  EXPECT_EQ(without_ids(events[16].data["item"]), json::parse(R"({"type":"function_call","id":"fc_*",
      "call_id":"call_*","name":"weather","arguments":"","status":"in_progress"})"));
  EXPECT_EQ(without_ids(events[17].data), json::parse(R"({"type":"response.function_call_arguments.delta",
      "sequence_number":17,"item_id":"fc_*","output_index":2,"delta":"{\"city\":"})"));
  EXPECT_EQ(without_ids(events[19].data), json::parse(R"({"type":"response.function_call_arguments.done",
      "sequence_number":19,"item_id":"fc_*","output_index":2,"name":"weather",
        "arguments":"{\"city\":\"Paris\"}"})"));
  EXPECT_EQ(events[20].data["item"]["arguments"], R"({"city":"Paris"})");
  EXPECT_EQ(events[20].data["item"]["status"], "completed");
  EXPECT_EQ(events[20].data["item"]["call_id"], events[16].data["item"]["call_id"]);

  // The last event carries what the non-streaming path would have answered.
  const json& final_response = events.back().data["response"];
  EXPECT_EQ(without_ids(final_response), without_ids(responses_object(context, full_outcome())));
  EXPECT_EQ(final_response["id"], context.id);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(final_response["output"][i]["id"], item_ids[i]);

  // Nothing more after the end.
  EXPECT_EQ(writer.delta(text_delta(Kind::kContent, "late")), "");
  EXPECT_EQ(writer.end(full_outcome()), "");
  EXPECT_EQ(writer.error("late"), "");
}

TEST(ResponsesStream, TheSdkAccumulatorBuildsTheFinalResponseBeforeItArrives) {
  const ResponsesContext context = test_context();
  ResponsesStreamWriter writer(context);
  const std::vector<SseEvent> events = parse_sse(stream_all(writer, full_deltas(), full_outcome()));
  SdkAccumulator accumulator;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    accumulator.add(events[i].data);
    if (HasFatalFailure()) return;
  }
  // Before response.completed the accumulated output already equals the final one: the done
  // events carry the full text and arguments.
  const json& final_response = events.back().data["response"];
  EXPECT_EQ(accumulator.snapshot()["output"], final_response["output"]);
  accumulator.add(events.back().data);
  EXPECT_EQ(accumulator.snapshot(), final_response);
}

TEST(ResponsesStream, TheLengthLimitEndsWithResponseIncomplete) {
  ChatOutcome outcome;
  outcome.output.content = "Cut sh";
  outcome.finish_reason = engine::FinishReason::kLength;
  const ResponsesContext context = test_context();
  ResponsesStreamWriter writer(context);
  const std::vector<SseEvent> events = parse_sse(
      stream_all(writer, {text_delta(Kind::kContent, "Cut"), text_delta(Kind::kContent, " sh")}, outcome));
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back().name, "response.incomplete");
  EXPECT_EQ(events[events.size() - 2].data["item"]["status"], "incomplete");
  const json& response = events.back().data["response"];
  EXPECT_EQ(response["status"], "incomplete");
  EXPECT_EQ(response["incomplete_details"]["reason"], "max_output_tokens");
  EXPECT_EQ(without_ids(response), without_ids(responses_object(context, outcome)));
}

TEST(ResponsesStream, EndStreamsWhatTheDeltasDidNotSay) {
  // A pipeline that parses tool calls only once generation is over, or streams nothing at all.
  const ResponsesContext context = test_context();
  ResponsesStreamWriter writer(context);
  const std::vector<SseEvent> events = parse_sse(stream_all(
      writer, {text_delta(Kind::kReasoning, "Think "), text_delta(Kind::kToolCallArguments, "", 0)},
      full_outcome()));
  SdkAccumulator accumulator;
  for (const auto& event : events) {
    accumulator.add(event.data);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(without_ids(accumulator.snapshot()), without_ids(responses_object(context, full_outcome())));
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].data["sequence_number"], i);

  ResponsesStreamWriter silent(context);
  const std::vector<SseEvent> from_end = parse_sse(silent.end(full_outcome()));
  ASSERT_FALSE(from_end.empty());
  EXPECT_EQ(from_end.front().name, "response.created");
  EXPECT_EQ(without_ids(from_end.back().data["response"]),
            without_ids(responses_object(context, full_outcome())));
}

TEST(ResponsesStream, TheOutcomeHasTheLastWordOnArguments) {
  ChatOutcome outcome;
  outcome.output.tool_calls = {{"f", R"({"a":1})"}};
  outcome.finish_reason = engine::FinishReason::kEosToken;
  ResponsesStreamWriter writer(test_context());
  const std::vector<SseEvent> events = parse_sse(stream_all(
      writer, {text_delta(Kind::kToolCallStart, "f"), text_delta(Kind::kToolCallArguments, R"({ "a" : 1 })")},
      outcome));
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[events.size() - 3].data["arguments"], R"({"a":1})");
  EXPECT_EQ(events.back().data["response"]["output"][0]["arguments"], R"({"a":1})");
}

TEST(ResponsesStream, InterleavedKindsOpenNewItemsInOrder) {
  ChatOutcome outcome;
  outcome.output.reasoning = "r";
  outcome.output.content = "ab";
  outcome.finish_reason = engine::FinishReason::kEosToken;
  ResponsesStreamWriter writer(test_context());
  const std::vector<SseEvent> events = parse_sse(stream_all(
      writer,
      {text_delta(Kind::kContent, "a"), text_delta(Kind::kReasoning, "r"), text_delta(Kind::kContent, "b")},
      outcome));
  std::vector<size_t> added;
  for (const auto& event : events)
    if (event.name == "response.output_item.added") added.push_back(event.data["output_index"]);
  EXPECT_EQ(added, (std::vector<size_t>{0, 1, 2}));
  const json& output = events.back().data["response"]["output"];
  ASSERT_EQ(output.size(), 3u);
  EXPECT_EQ(output[0]["content"][0]["text"], "a");
  EXPECT_EQ(output[1]["type"], "reasoning");
  EXPECT_EQ(output[2]["content"][0]["text"], "b");
  SdkAccumulator accumulator;
  for (const auto& event : events) accumulator.add(event.data);
}

TEST(ResponsesStream, DeltasBeforeBeginStillStartTheStream) {
  ResponsesStreamWriter writer(test_context());
  const std::vector<SseEvent> events = parse_sse(writer.delta(text_delta(Kind::kContent, "x")));
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].name, "response.created");
  EXPECT_EQ(events[1].name, "response.in_progress");
  EXPECT_EQ(writer.begin(), "");
}

TEST(ResponsesStream, AnErrorIsTheLastEvent) {
  ResponsesStreamWriter writer(test_context());
  std::string bytes = writer.begin();
  bytes += writer.delta(text_delta(Kind::kContent, "partial"));
  bytes += writer.error("the model failed");
  const std::vector<SseEvent> events = parse_sse(bytes);
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events.back().data, json::parse(R"({"type":"error","sequence_number":5,"code":"server_error",
      "message":"the model failed","param":null})"));
  EXPECT_EQ(writer.delta(text_delta(Kind::kContent, "more")), "");
  EXPECT_EQ(writer.end(full_outcome()), "");
  EXPECT_EQ(writer.error("again"), "");
}

TEST(ResponsesStream, InvalidUtf8IsReplacedNotThrown) {
  ChatOutcome outcome;
  outcome.output.content = "a\xff";
  outcome.finish_reason = engine::FinishReason::kEosToken;
  ResponsesStreamWriter writer(test_context());
  std::string bytes;
  EXPECT_NO_THROW(bytes = stream_all(writer, {text_delta(Kind::kContent, "a\xff")}, outcome));
  const std::vector<SseEvent> events = parse_sse(bytes);
  EXPECT_EQ(events.back().data["response"]["output"][0]["content"][0]["text"], "a\xEF\xBF\xBD");
  EXPECT_NO_THROW((void)responses_object_json(test_context(), outcome));
}

}  // namespace
}  // namespace tgi::server
