// The chat body is as strict as TGI's ChatRequest where TGI is strict (tool_calls entries, `n`,
// `logit_bias`), and OpenAI's logit_bias map reaches the sampler.
#include <gtest/gtest.h>

#include "server/chat_request.h"

namespace tgi::server {
namespace {

using nlohmann::ordered_json;

// "" when the body parses, else the shape error's message.
std::string shape_error_of(const std::string& body) {
  auto parsed = parse_chat_request(ordered_json::parse(body));
  return parsed.ok() ? "" : parsed.error().message;
}

std::string with_assistant_calls(const std::string& calls) {
  return R"({"messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":)" + calls + "}]}";
}

TEST(ChatRequestParsing, ToolCallsInHistoryNeedEveryField) {
  EXPECT_EQ(shape_error_of(with_assistant_calls(
                R"([{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}])")),
            "");
  EXPECT_EQ(shape_error_of(with_assistant_calls("[1]")),
            "messages[1].tool_calls[0]: invalid type: integer `1`, expected struct ToolCall");
  EXPECT_EQ(
      shape_error_of(with_assistant_calls(R"([{"id":"c1","type":"function","function":1}])")),
      "messages[1].tool_calls[0].function: invalid type: integer `1`, expected struct FunctionDefinition");
  EXPECT_EQ(
      shape_error_of(with_assistant_calls(R"([{"type":"function","function":{"name":"f","arguments":{}}}])")),
      "messages[1].tool_calls[0]: missing field `id`");
  EXPECT_EQ(shape_error_of(with_assistant_calls(R"([{"id":"c1","function":{"name":"f","arguments":{}}}])")),
            "messages[1].tool_calls[0]: missing field `type`");
  EXPECT_EQ(
      shape_error_of(with_assistant_calls(R"([{"id":"c1","type":"function","function":{"name":"f"}}])")),
      "messages[1].tool_calls[0].function: missing field `arguments`");
  EXPECT_EQ(shape_error_of(with_assistant_calls(R"({"id":"c1"})")),
            "messages[1].tool_calls: invalid type: map, expected a sequence");
}

TEST(ChatRequestParsing, NIsAnUnsignedInteger) {
  const std::string messages = R"("messages":[{"role":"user","content":"x"}])";
  EXPECT_EQ(shape_error_of("{" + messages + R"(,"n":1})"), "");
  EXPECT_EQ(shape_error_of("{" + messages + R"(,"n":null})"), "");
  EXPECT_EQ(shape_error_of("{" + messages + R"(,"n":-1})"), "n: invalid value: integer `-1`, expected u32");
  EXPECT_EQ(shape_error_of("{" + messages + R"(,"n":"2"})"), "n: invalid type: string \"2\", expected u32");
}

TEST(ChatRequestParsing, LogitBiasIsAListOfFloatsOrATokenMap) {
  const std::string messages = R"("messages":[{"role":"user","content":"x"}])";
  EXPECT_EQ(shape_error_of("{" + messages + R"(,"logit_bias":[0.5,1]})"), "");
  EXPECT_EQ(shape_error_of("{" + messages + R"(,"logit_bias":{"1":"x"}})"),
            "logit_bias.1: invalid type: string \"x\", expected f32");
  EXPECT_EQ(shape_error_of("{" + messages + R"(,"logit_bias":{"a":1}})"),
            "logit_bias.a: invalid value: string \"a\", expected a token id");
  EXPECT_EQ(shape_error_of("{" + messages + R"(,"logit_bias":{"1":101}})"),
            "logit_bias.1: invalid value: 101, expected a bias from -100 to 100");
  EXPECT_EQ(shape_error_of("{" + messages + R"(,"logit_bias":["a"]})"),
            "logit_bias[0]: invalid type: string \"a\", expected f32");
  EXPECT_EQ(shape_error_of("{" + messages + R"(,"logit_bias":"x"})"),
            "logit_bias: invalid type: string \"x\", expected a sequence or a map of token ids to f32");

  auto parsed =
      parse_chat_request(ordered_json::parse("{" + messages + R"(,"logit_bias":{"7":-100,"9":2.5}})"));
  ASSERT_TRUE(parsed.ok());
  const GenerateParameters p = chat_parameters(*parsed);
  ASSERT_EQ(p.logit_bias.size(), 2u);
  EXPECT_EQ(p.logit_bias[0], (std::pair<int32_t, float>{7, -100.0f}));
  EXPECT_EQ(p.logit_bias[1], (std::pair<int32_t, float>{9, 2.5f}));
}

}  // namespace
}  // namespace tgi::server
