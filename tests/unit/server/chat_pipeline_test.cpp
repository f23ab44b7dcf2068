// The chat pipeline end to end over HTTP with scripted model output: native tool calls, reasoning,
// n choices and the three chat APIs (OpenAI chat, OpenAI Responses, Anthropic Messages) reading the
// same generation, streamed and not; plus the text utility routes.
#include <set>

#include <gtest/gtest.h>

#include "loopback_api_fixture.h"

namespace tgi::server {
namespace {

using nlohmann::ordered_json;

// A Qwen-style template: Hermes <tool_call> blocks and <think> reasoning.
constexpr const char* kHermesTemplate =
    "{%- if tools %}{{ tools | tojson }} Return <tool_call>\n{\"name\": ..., \"arguments\": "
    "...}\n</tool_call>"
    "{%- endif %}{%- if message.role == 'developer' %}{%- endif %}<think>\n\n</think>";

const char* kTools =
    R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":)"
    R"({"city":{"type":"string"}}}}},{"type":"function","function":{"name":"get_time"}}])";

class ChatPipelineTest : public LoopbackTest {
 protected:
  void SetUp() override {
    ServerConfig config;
    config.payload_limit = 100000;
    config.limits.max_input_tokens = 400;
    config.limits.max_total_tokens = 512;
    start(config);
  }
  void configure_backend(testing::FakeBackend& backend) override {
    backend.traits.uses_tools = true;
    backend.traits.knows_developer_role = true;
    backend.traits.output_format =
        chat::detect_output_format(kHermesTemplate, [](std::string_view) { return false; });
    backend.finish_reason = engine::FinishReason::kEosToken;
  }
  void script(std::vector<std::string> tokens) { backend_->script = std::move(tokens); }

  ordered_json chat(const std::string& extra) {
    const std::string r =
        exchange(post("/v1/chat/completions",
                      R"({"messages":[{"role":"user","content":"weather?"}],"max_tokens":50)" + extra + "}"));
    EXPECT_TRUE(r.starts_with("HTTP/1.1 200 ")) << r;
    return ordered_json::parse(body_of(r));
  }

  // The JSON data of every SSE event (without [DONE]).
  static std::vector<ordered_json> events(const std::string& response) {
    std::vector<ordered_json> out;
    size_t at = 0;
    while ((at = response.find("data: ", at)) != std::string::npos) {
      const size_t end = response.find("\n\n", at);
      const std::string data = response.substr(at + 6, end - at - 6);
      at = end;
      if (data != "[DONE]") out.push_back(ordered_json::parse(data));
    }
    return out;
  }
};

const std::vector<std::string> kOneCall = {"<tool_call>", "\n{\"name\": \"get_weather\", ",
                                           "\"arguments\": {\"city\":", " \"Paris\"}}", "\n</tool_call>"};

TEST_F(ChatPipelineTest, NativeToolCallBecomesToolCalls) {
  script(kOneCall);
  const ordered_json out = chat(std::string(R"(,"tools":)") + kTools);
  const ordered_json& choice = out["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_TRUE(choice["message"]["content"].is_null());
  ASSERT_EQ(choice["message"]["tool_calls"].size(), 1u);
  const ordered_json& call = choice["message"]["tool_calls"][0];
  EXPECT_TRUE(call["id"].get<std::string>().starts_with("call_"));
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "get_weather");
  EXPECT_EQ(call["function"]["arguments"], R"({"city":"Paris"})");
}

TEST_F(ChatPipelineTest, ToolsAreGivenToTheTemplateAsSent) {
  script(kOneCall);
  const std::string r =
      exchange(post("/apply-template", std::string(R"({"messages":[{"role":"user","content":"hi"}],)") +
                                           R"("tools":)" + kTools + "}"));
  const ordered_json prompt = ordered_json::parse(body_of(r));
  EXPECT_NE(prompt["prompt"].get<std::string>().find(R"("name":"get_weather","parameters")"),
            std::string::npos)
      << r;
  EXPECT_EQ(prompt["prompt"].get<std::string>().find("---"), std::string::npos)
      << "no TGI tool prompt injected";
}

TEST_F(ChatPipelineTest, ParallelCallsGetDistinctIdsAndCanBeLimitedToOne) {
  std::vector<std::string> two = kOneCall;
  two.insert(two.end(), {"\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"});
  script(two);
  ordered_json out = chat(std::string(R"(,"tools":)") + kTools);
  const ordered_json& calls = out["choices"][0]["message"]["tool_calls"];
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_NE(calls[0]["id"], calls[1]["id"]);
  EXPECT_EQ(calls[1]["function"]["name"], "get_time");
  EXPECT_EQ(calls[1]["function"]["arguments"], "{}");
  out = chat(std::string(R"(,"parallel_tool_calls":false,"tools":)") + kTools);
  EXPECT_EQ(out["choices"][0]["message"]["tool_calls"].size(), 1u);
}

TEST_F(ChatPipelineTest, ProseWithToolsOfferedIsContentNot422) {
  script({"It", " is", " sunny", "."});
  const ordered_json out = chat(std::string(R"(,"tool_choice":"auto","tools":)") + kTools);
  EXPECT_EQ(out["choices"][0]["message"]["content"], "It is sunny.");
  EXPECT_FALSE(out["choices"][0]["message"].contains("tool_calls"));
  EXPECT_EQ(out["choices"][0]["finish_reason"], "stop");
}

TEST_F(ChatPipelineTest, TextBeforeACallIsContent) {
  std::vector<std::string> tokens = {"Let me check.", "\n"};
  tokens.insert(tokens.end(), kOneCall.begin(), kOneCall.end());
  script(tokens);
  const ordered_json out = chat(std::string(R"(,"tools":)") + kTools);
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Let me check.");
  EXPECT_EQ(out["choices"][0]["message"]["tool_calls"].size(), 1u);
}

TEST_F(ChatPipelineTest, StreamedToolCallSendsIdAndNameThenArguments) {
  script(kOneCall);
  const std::string r = exchange(post(
      "/v1/chat/completions", std::string(R"({"messages":[{"role":"user","content":"w"}],"stream":true,)") +
                                  R"("max_tokens":50,"tools":)" + kTools + "}"));
  EXPECT_EQ(r.find("<tool_call>"), std::string::npos) << "markers never reach the client";
  std::string arguments, name, id, finish;
  for (const ordered_json& event : events(r)) {
    const ordered_json& choice = event["choices"][0];
    if (!choice["finish_reason"].is_null()) finish = choice["finish_reason"];
    if (!choice["delta"].contains("tool_calls")) continue;
    const ordered_json& call = choice["delta"]["tool_calls"][0];
    EXPECT_EQ(call["index"], 0);
    if (call.contains("id")) {
      EXPECT_TRUE(id.empty()) << "the id comes once";
      EXPECT_TRUE(arguments.empty()) << "id and name come before the arguments";
      id = call["id"];
      name = call["function"]["name"];
    }
    arguments += call["function"]["arguments"].get<std::string>();
  }
  EXPECT_TRUE(id.starts_with("call_"));
  EXPECT_EQ(name, "get_weather");
  EXPECT_EQ(ordered_json::parse(arguments), ordered_json::parse(R"({"city":"Paris"})"));
  EXPECT_EQ(finish, "tool_calls");
}

TEST_F(ChatPipelineTest, SpecialTokensReachTheParserOnlyAsMarkers) {
  // <tool_call> is a special token of this model here; <|im_start|> is one too but no marker.
  backend_->special_texts = {"<tool_call>", "<|im_start|>"};
  std::vector<std::string> tokens = {"<|im_start|>", "Hi"};
  tokens.insert(tokens.end(), kOneCall.begin(), kOneCall.end());
  script(tokens);
  const ordered_json out = chat(std::string(R"(,"tools":)") + kTools);
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Hi");
  EXPECT_EQ(out["choices"][0]["message"]["tool_calls"].size(), 1u) << out.dump();
}

TEST_F(ChatPipelineTest, ReasoningIsSeparatedStreamedAndNot) {
  script({"<think>", "\nHmm, Paris", ".\n", "</think>", "\n\nSunny", "."});
  ordered_json out = chat("");
  EXPECT_EQ(out["choices"][0]["message"]["reasoning_content"], "Hmm, Paris.");
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Sunny.");

  const std::string r =
      exchange(post("/v1/chat/completions",
                    R"({"messages":[{"role":"user","content":"w"}],"stream":true,"max_tokens":50})"));
  std::string reasoning, content;
  for (const ordered_json& event : events(r)) {
    const ordered_json& delta = event["choices"][0]["delta"];
    if (delta.contains("reasoning_content")) reasoning += delta["reasoning_content"].get<std::string>();
    if (delta.contains("content")) content += delta["content"].get<std::string>();
  }
  EXPECT_EQ(reasoning, "Hmm, Paris.");
  EXPECT_EQ(content, "Sunny.");
}

TEST_F(ChatPipelineTest, ReasoningSeparationCanBeTurnedOff) {
  ServerConfig config;
  config.payload_limit = 100000;
  config.limits.max_input_tokens = 400;
  config.limits.max_total_tokens = 512;
  config.separate_reasoning = false;
  start(config);
  script({"<think>", "x", "</think>", "y"});
  const ordered_json out = chat("");
  EXPECT_EQ(out["choices"][0]["message"]["content"], "<think>x</think>y");
  EXPECT_FALSE(out["choices"][0]["message"].contains("reasoning_content"));
}

TEST_F(ChatPipelineTest, NChoicesAreIndexedWithUsageSummed) {
  script({"a", "b"});
  const ordered_json out = chat(R"(,"n":2,"seed":5)");
  ASSERT_EQ(out["choices"].size(), 2u);
  EXPECT_EQ(out["choices"][0]["index"], 0);
  EXPECT_EQ(out["choices"][1]["index"], 1);
  EXPECT_EQ(out["usage"]["completion_tokens"], 4);
  EXPECT_EQ(backend_->submitted.load(), 2);
  EXPECT_EQ(backend_->last_request.sampling.seed, 6u) << "each choice its own seed";

  const std::string r = exchange(
      post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"w"}],"stream":true,"n":2})"));
  std::set<int> indices;
  for (const ordered_json& event : events(r)) indices.insert(event["choices"][0]["index"].get<int>());
  EXPECT_EQ(indices, (std::set<int>{0, 1}));
  EXPECT_NE(exchange(post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"w"}],"n":9})"))
                .find(" 422 "),
            std::string::npos);
}

TEST_F(ChatPipelineTest, OpenAiRequestFieldsClientsSend) {
  script({"a"});
  std::string r = exchange(post("/v1/chat/completions",
                                R"({"messages":[{"role":"user","content":"w"}],)"
                                R"("response_format":{"type":"text"},"max_completion_tokens":3})"));
  EXPECT_EQ(ordered_json::parse(body_of(r))["choices"][0]["message"]["content"], "a") << r;
  EXPECT_EQ(backend_->last_request.stopping.max_new_tokens, 3);

  r = exchange(post("/apply-template", R"({"messages":[{"role":"developer","content":"be brief"}],)"
                                       R"("chat_template_kwargs":{"enable_thinking":false},)"
                                       R"("reasoning_effort":"low"})"));
  const std::string prompt = ordered_json::parse(body_of(r))["prompt"];
  EXPECT_NE(prompt.find("<developer>be brief"), std::string::npos)
      << "the template knows `developer`: " << prompt;
  EXPECT_NE(prompt.find(R"(<kwargs>{"enable_thinking":false,"reasoning_effort":"low"})"), std::string::npos)
      << prompt;
}

TEST_F(ChatPipelineTest, DeveloperBecomesSystemWhereTheTemplateLacksIt) {
  backend_->traits.knows_developer_role = false;
  const std::string r =
      exchange(post("/apply-template", R"({"messages":[{"role":"developer","content":"be brief"}]})"));
  EXPECT_NE(body_of(r).find("<system>be brief"), std::string::npos) << r;
}

TEST_F(ChatPipelineTest, HistoryToolCallsReachTheTemplateWithParsedArguments) {
  const std::string r = exchange(post(
      "/apply-template",
      R"({"messages":[{"role":"user","content":"w"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1",)"
      R"("type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},)"
      R"({"role":"tool","tool_call_id":"c1","content":"sunny"}]})"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 200 ")) << r;
  EXPECT_NE(body_of(r).find("<tool>sunny"), std::string::npos) << r;
}

TEST_F(ChatPipelineTest, ATrailingAssistantCallIsHistoryNotContinued) {
  const std::string r = exchange(post(
      "/apply-template",
      R"({"messages":[{"role":"user","content":"w"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1",)"
      R"("type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]}]})"));
  EXPECT_TRUE(ordered_json::parse(body_of(r))["prompt"].get<std::string>().ends_with("<assistant>")) << r;
}

TEST_F(ChatPipelineTest, BadToolInputNamesTheField) {
  auto status_and_body = [&](const std::string& body) {
    return exchange(post("/v1/chat/completions", body));
  };
  std::string r = status_and_body(
      R"({"messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f",)"
      R"("arguments":"{not json"}}]}]})");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 422 ")) << r;
  EXPECT_NE(r.find("messages[0].tool_calls[0].function.arguments"), std::string::npos) << r;
  r = status_and_body(
      R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":7}]})");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 422 ")) << r;
  EXPECT_NE(r.find("tools[0].function"), std::string::npos) << r;
  r = status_and_body(R"({"messages":[{"role":"user","content":[{"type":"video","url":"x"}]}]})");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 422 ")) << r;
  EXPECT_NE(r.find("unknown variant `video`"), std::string::npos) << r;
}

TEST_F(ChatPipelineTest, InjectedToolPromptIsReadInTgiShape) {
  backend_->traits = ChatTraits{};  // a template that knows nothing of tools
  script({R"({"function": {"_name": "get_weather", "city": "Paris"}})"});
  ordered_json out = chat(std::string(R"(,"tools":)") + kTools);
  ASSERT_EQ(out["choices"][0]["message"]["tool_calls"].size(), 1u) << out.dump();
  EXPECT_EQ(out["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], R"({"city":"Paris"})");
  script({R"({"function": {"_name": "no_tool", "content": "Just text"}})"});
  out = chat(std::string(R"(,"tools":)") + kTools);
  EXPECT_EQ(out["choices"][0]["message"]["content"], "Just text") << out.dump();
  EXPECT_EQ(out["choices"][0]["finish_reason"], "stop");
}

TEST_F(ChatPipelineTest, AnthropicMessagesReadTheSameGeneration) {
  std::vector<std::string> tokens = {"<think>", "plan", "</think>", "On it."};
  tokens.insert(tokens.end(), kOneCall.begin(), kOneCall.end());
  script(tokens);
  const std::string tools = R"([{"name":"get_weather","input_schema":{"type":"object"}}])";
  std::string r = exchange(post("/v1/messages", R"({"model":"m","max_tokens":50,"messages":[{"role":"user",)"
                                                R"("content":"w"}],"tools":)" +
                                                    tools + "}"));
  ASSERT_TRUE(r.starts_with("HTTP/1.1 200 ")) << r;
  const ordered_json message = ordered_json::parse(body_of(r));
  EXPECT_EQ(message["type"], "message");
  EXPECT_EQ(message["stop_reason"], "tool_use");
  ASSERT_EQ(message["content"].size(), 3u) << message.dump();
  EXPECT_EQ(message["content"][0]["type"], "thinking");
  EXPECT_EQ(message["content"][1]["text"], "On it.");
  EXPECT_EQ(message["content"][2]["input"], ordered_json::parse(R"({"city":"Paris"})"));

  r = exchange(
      post("/v1/messages", R"({"model":"m","max_tokens":50,"stream":true,"messages":[{"role":"user",)"
                           R"("content":"w"}],"tools":)" +
                               tools + "}"));
  for (const char* event :
       {"event: message_start", "event: content_block_start", "event: content_block_delta",
        "event: content_block_stop", "event: message_delta", "event: message_stop"})
    EXPECT_NE(r.find(event), std::string::npos) << event << "\n" << r;
  EXPECT_EQ(r.find("<tool_call>"), std::string::npos);

  r = exchange(post("/v1/messages", R"({"model":"m","messages":[{"role":"user","content":"w"}]})"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 400 ")) << r;
  EXPECT_NE(body_of(r).find(R"("type":"error","error":{"type":"invalid_request_error")"), std::string::npos)
      << r;

  r = exchange(
      post("/v1/messages/count_tokens", R"({"model":"m","messages":[{"role":"user","content":"a b c"}]})"));
  EXPECT_GT(ordered_json::parse(body_of(r))["input_tokens"].get<int>(), 0) << r;
}

TEST_F(ChatPipelineTest, ResponsesReadTheSameGeneration) {
  script({"Hello", " there"});
  std::string r = exchange(post("/v1/responses", R"({"model":"m","input":"hi","instructions":"be nice"})"));
  ASSERT_TRUE(r.starts_with("HTTP/1.1 200 ")) << r;
  const ordered_json response = ordered_json::parse(body_of(r));
  EXPECT_EQ(response["object"], "response");
  EXPECT_EQ(response["status"], "completed");
  const ordered_json& item = response["output"].back();
  EXPECT_EQ(item["type"], "message");
  EXPECT_EQ(item["content"][0]["text"], "Hello there");

  r = exchange(post("/v1/responses", R"({"model":"m","input":"hi","stream":true})"));
  std::string text;
  int last_sequence = -1;
  std::string last_type;
  for (const ordered_json& event : events(r)) {
    EXPECT_EQ(event["sequence_number"].get<int>(), last_sequence + 1);
    last_sequence = event["sequence_number"];
    last_type = event["type"];
    if (event["type"] == "response.output_text.delta") text += event["delta"].get<std::string>();
  }
  EXPECT_EQ(text, "Hello there");
  EXPECT_EQ(last_type, "response.completed");
  r = exchange(post("/v1/responses", R"({"model":"m","input":"hi","previous_response_id":"resp_1"})"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 400 ")) << r;
}

TEST_F(ChatPipelineTest, DetokenizeAndApplyTemplate) {
  std::string r = exchange(post("/detokenize", R"({"tokens":[3,4]})"));
  EXPECT_EQ(body_of(r), R"({"content":" tok3 tok4"})");
  r = exchange(post("/detokenize", R"({"tokens":["a"]})"));
  EXPECT_TRUE(r.starts_with("HTTP/1.1 422 ")) << r;
  r = exchange(post("/apply-template", R"({"messages":[{"role":"user","content":"hi"}]})"));
  EXPECT_EQ(body_of(r), R"({"prompt":"<user>hi\n<assistant>"})");
}

TEST(ChatPipelineAuth, AnthropicClientsAuthenticateWithXApiKey) {
  ServerConfig config;
  config.api_key = "secret";
  auto backend = std::make_shared<testing::FakeBackend>();
  Api api(config);
  api.set_backend(backend);
  HttpServer server(HttpServerOptions{2, 100000}, api.handler());
  ASSERT_TRUE(server.listen_tcp("127.0.0.1", 0).ok());
  server.start();
  auto call = [&](const std::string& headers) {
    Connection c(server.port());
    c.send(post("/v1/messages/count_tokens", R"({"model":"m","messages":[{"role":"user","content":"a"}]})",
                headers));
    return c.read_all();
  };
  EXPECT_TRUE(call("").starts_with("HTTP/1.1 401 "));
  EXPECT_TRUE(call("x-api-key: wrong\r\n").starts_with("HTTP/1.1 401 "));
  EXPECT_TRUE(call("x-api-key: secret\r\n").starts_with("HTTP/1.1 200 "));
}

}  // namespace
}  // namespace tgi::server
