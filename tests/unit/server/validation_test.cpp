// Spec §1.3–1.4: parsing defaults, then each validation rule with TGI's exact message, in order.
#include <gtest/gtest.h>

#include "fake_backend.h"
#include "server/api_error.h"
#include "server/generate_request.h"

namespace tgi::server {
namespace {

using nlohmann::ordered_json;

ValidationLimits limits(bool grammar_supported = true) {
  ValidationLimits l;
  l.max_input_tokens = 10;
  l.max_total_tokens = 20;
  l.grammar_supported = grammar_supported;
  return l;
}

// Parses and validates `body`; returns the full "error" text or "" when valid.
std::string error_of(const std::string& body, bool stream = false, bool grammar_supported = true) {
  testing::FakeBackend backend;
  auto parsed = parse_generate_request(ordered_json::parse(body));
  if (!parsed.ok()) return "shape: " + parsed.error().message;
  auto first = validate_best_of_and_stream(parsed->parameters, stream, limits(grammar_supported));
  if (!first.ok()) return ApiError::from(first.error()).message;
  auto v = validate_generate(parsed->inputs, parsed->parameters, true, limits(grammar_supported), backend);
  if (!v.ok()) return ApiError::from(v.error()).message;
  return "";
}

TEST(GenerateParsing, DoSampleDefaultsDependOnParametersPresence) {
  auto without = parse_generate_request(ordered_json::parse(R"({"inputs":"a"})"));
  ASSERT_TRUE(without.ok());
  EXPECT_TRUE(without->parameters.do_sample);
  auto with = parse_generate_request(ordered_json::parse(R"({"inputs":"a","parameters":{}})"));
  ASSERT_TRUE(with.ok());
  EXPECT_FALSE(with->parameters.do_sample);
  EXPECT_FALSE(with->parameters.details);
}

TEST(GenerateParsing, ShapeErrorsReadLikeSerde) {
  EXPECT_EQ(error_of(R"({"parameters":{}})"), "shape: missing field `inputs`");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"top_k":"x"}})"),
            "shape: parameters.top_k: invalid type: string \"x\", expected i32");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"stop":null}})"),
            "shape: parameters.stop: invalid type: null, expected a sequence");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"max_new_tokens":-1}})"),
            "shape: parameters.max_new_tokens: invalid value: integer `-1`, expected u32");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"details":null}})"),
            "shape: parameters.details: invalid type: null, expected a boolean");
}

TEST(GenerateValidation, EachRuleHasTgisMessage) {
  const std::string p = "Input validation error: ";
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"best_of":3}})"),
            p + "`best_of` must be > 0 and <= 2. Given: 3");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"best_of":2}})", true),
            p + "`best_of` != 1 is not supported when streaming tokens");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"decoder_input_details":true}})", true),
            p + "`decoder_input_details` == true is not supported when streaming tokens");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"best_of":2}})"),
            p + "you must use sampling when `best_of` is > 1");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"temperature":0}})"),
            p + "`temperature` must be strictly positive");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"repetition_penalty":0}})"),
            p + "`repetition_penalty` must be strictly positive");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"frequency_penalty":2.5}})"),
            p + "`frequency_penalty` must be >= -2.0 and <= 2.0");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"frequency_penalty":-2.0}})"), "");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"top_p":1.0}})"), p + "`top_p` must be > 0.0 and < 1.0");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"typical_p":0}})"),
            p + "`typical_p` must be > 0.0 and < 1.0");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"top_k":0}})"), p + "`top_k` must be strictly positive");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"max_new_tokens":0}})"),
            p + "`max_new_tokens` must be strictly positive");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"stop":["a","b","c","d","e"]}})"),
            p + "`stop` supports up to 4 stop sequences. Given: 5");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"best_of":2,"do_sample":true,"seed":1}})"),
            p + "`seed` must not be set when `best_of` > 1");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"top_n_tokens":6}})"),
            p + "`top_n_tokens` must be >= 0 and <= 5. Given: 6");
  EXPECT_EQ(error_of(R"({"inputs":"","parameters":{}})"), p + "`inputs` cannot be empty");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"truncate":0}})"),
            p + "`truncate` must be strictly positive and less than 10. Given: 0");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"truncate":11}})"),
            p + "`truncate` must be strictly positive and less than 10. Given: 11");
  // 1 special + 12 words = 13 tokens; with 10 new tokens 23 > 20.
  EXPECT_EQ(error_of(R"({"inputs":"a b c d e f g h i j k l","parameters":{"max_new_tokens":10}})"),
            p + "`inputs` tokens + `max_new_tokens` must be <= 20. Given: 13 `inputs` tokens and 10 "
                "`max_new_tokens`");
  EXPECT_EQ(error_of(R"({"inputs":"a b c d e f g h i j k l","parameters":{"max_new_tokens":2}})"),
            p + "`inputs` must have less than 10 tokens. Given: 13");
  // --disable-grammar-support
  EXPECT_EQ(
      error_of(R"({"inputs":"a","parameters":{"grammar":{"type":"regex","value":"a+"}}})", false, false),
      p + "grammar is not supported");
}

TEST(GenerateValidation, GrammarsCompileOrSayWhyNot) {
  const std::string p = "Input validation error: ";
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"grammar":{"type":"regex","value":"a+"}}})"), "");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"grammar":{"type":"json","value":{"type":"integer"}}}})"),
            "");
  EXPECT_EQ(
      error_of(R"({"inputs":"a","parameters":{"grammar":{"type":"json","value":"{\"type\":\"string\"}"}}})"),
      "");
  EXPECT_EQ(
      error_of(
          R"({"inputs":"a","parameters":{"grammar":{"type":"json_schema","value":{"name":"x","schema":{"type":"object"}}}}})"),
      "");
  EXPECT_EQ(
      error_of(
          R"({"inputs":"a","parameters":{"grammar":{"type":"gbnf","value":"root ::= \"yes\" | \"no\""}}})"),
      "");
  EXPECT_EQ(error_of(R"({"inputs":"a","parameters":{"grammar":{"type":"json_object"}}})"), "");
  const std::string bad_regex =
      error_of(R"({"inputs":"a","parameters":{"grammar":{"type":"regex","value":"(a"}}})");
  EXPECT_EQ(bad_regex.rfind(p + "grammar is not valid: ", 0), 0u) << bad_regex;
  const std::string bad_type =
      error_of(R"({"inputs":"a","parameters":{"grammar":{"type":"yaml","value":"x"}}})");
  EXPECT_EQ(bad_type.rfind(p + "grammar is not valid: unknown grammar type `yaml`", 0), 0u) << bad_type;
  const std::string bad_schema = error_of(
      R"({"inputs":"a","parameters":{"grammar":{"type":"json","value":{"type":"string","minLength":-1}}}})");
  EXPECT_EQ(bad_schema.rfind(p + "grammar is not valid: ", 0), 0u) << bad_schema;
  const std::string not_json =
      error_of(R"({"inputs":"a","parameters":{"grammar":{"type":"json","value":"{oops"}}})");
  EXPECT_EQ(not_json, p + "grammar is not valid: the schema string is not valid JSON");
  const std::string bad_gbnf =
      error_of(R"({"inputs":"a","parameters":{"grammar":{"type":"gbnf","value":"root ::= undefined"}}})");
  EXPECT_NE(bad_gbnf.find("undefined"), std::string::npos) << bad_gbnf;
}

TEST(GenerateValidation, OrderPutsEarlierRulesFirst) {
  // temperature (#2) is reported before top_k (#7) and before the empty input (#12).
  EXPECT_EQ(error_of(R"({"inputs":"","parameters":{"top_k":0,"temperature":-1}})"),
            "Input validation error: `temperature` must be strictly positive");
}

TEST(GenerateValidation, TruncateKeepsTheLastTokensAndDefaultsFillTheBudget) {
  testing::FakeBackend backend;
  auto parsed =
      parse_generate_request(ordered_json::parse(R"({"inputs":"a bb ccc","parameters":{"truncate":2}})"));
  ASSERT_TRUE(parsed.ok());
  auto v = validate_generate(parsed->inputs, parsed->parameters, true, limits(), backend);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->engine_request.input_ids, (std::vector<int32_t>{102, 103}));
  EXPECT_EQ(v->input_length, 2);
  EXPECT_EQ(v->max_new_tokens, 18);  // max_total_tokens - input
  EXPECT_FALSE(v->sampling);
}

}  // namespace
}  // namespace tgi::server
