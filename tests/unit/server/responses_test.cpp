// Response bytes (spec §1.6, §1.7, §1.9, §1.10): key order, f32 logprobs, nulls, SSE framing.
#include <cmath>

#include <gtest/gtest.h>

#include "server/api_error.h"
#include "server/metrics.h"
#include "server/responses.h"

namespace tgi::server {
namespace {

GenerationResult sample_result() {
  GenerationResult r;
  r.prefill = {{1, "<s>", std::nanf(""), true}, {5, "Hi", -1.5f, false}};
  r.tokens = {{7, " there", -0.3f, false}};
  r.top_tokens = {{}};
  r.generated_text = " there";
  r.finish_reason = engine::FinishReason::kEosToken;
  r.generated_tokens = 1;
  r.input_length = 2;
  return r;
}

TEST(Responses, GenerateWithoutDetailsIsOnlyText) {
  EXPECT_EQ(dump(generate_response_json(sample_result(), ResponseShape{})), R"({"generated_text":" there"})");
}

TEST(Responses, GenerateDetailsInTgiKeyOrder) {
  ResponseShape shape{true, true, true, "Hi"};
  EXPECT_EQ(dump(generate_response_json(sample_result(), shape)),
            R"({"generated_text":"Hi there","details":{"finish_reason":"eos_token","generated_tokens":1,)"
            R"("seed":null,"prefill":[{"id":1,"text":"<s>","logprob":null},{"id":5,"text":"Hi","logprob":-1.5}],)"
            R"("tokens":[{"id":7,"text":" there","logprob":-0.3,"special":false}]}})");
}

TEST(Responses, StreamEventsFrameAsSse) {
  ResponseShape shape{false, false, false, ""};
  GenerationResult r = sample_result();
  EXPECT_EQ(generate_stream_event(1, r.tokens[0], {}, nullptr, shape),
            "data: {\"index\":1,\"token\":{\"id\":7,\"text\":\" there\",\"logprob\":-0.3,\"special\":false},"
            "\"generated_text\":null,\"details\":null}\n\n");
  shape.details = true;
  r.seed = 9;
  EXPECT_EQ(generate_stream_event(2, r.tokens[0], {}, &r, shape),
            "data: {\"index\":2,\"token\":{\"id\":7,\"text\":\" there\",\"logprob\":-0.3,\"special\":false},"
            "\"generated_text\":\" there\",\"details\":{\"finish_reason\":\"eos_token\",\"generated_tokens\":1,"
            "\"seed\":9,\"input_length\":2}}\n\n");
}

TEST(Responses, ChatChunkAndUsage) {
  OpenAiIdentity id{"m", "3.3.6-dev0-native", 123};
  OutJson delta;
  delta["role"] = "assistant";
  delta["content"] = "x";
  EXPECT_EQ(chat_chunk_json(id, delta, nullptr, "stop"),
            R"({"object":"chat.completion.chunk","id":"","created":123,"model":"m","system_fingerprint":"3.3.6-dev0-native",)"
            R"("choices":[{"index":0,"delta":{"role":"assistant","content":"x"},"logprobs":null,"finish_reason":"stop"}],"usage":null})");
  EXPECT_EQ(chat_usage_chunk_json(id, 3, 4),
            R"({"object":"chat.completion.chunk","id":"","created":123,"model":"m","system_fingerprint":"3.3.6-dev0-native",)"
            R"("choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})");
  EXPECT_EQ(openai_stream_error("Model is overloaded"),
            R"({"error":{"message":"Model is overloaded","http_status_code":422}})");
}

TEST(Responses, CompletionChunkKeyOrder) {
  OpenAiIdentity id{"m", "fp", 5};
  EXPECT_EQ(completion_chunk_json(id, 1, "a"),
            R"({"object":"text_completion","id":"","created":5,"choices":[{"index":1,"text":"a","logprobs":null,)"
            R"("finish_reason":""}],"model":"m","system_fingerprint":"fp"})");
}

TEST(Errors, KindsMapToTgiStatusAndType) {
  EXPECT_EQ(ApiError::overloaded().body(), R"({"error":"Model is overloaded","error_type":"overloaded"})");
  EXPECT_EQ(ApiError::overloaded().status, 429);
  ApiError g = ApiError::from(Error{ErrorKind::kGeneration, "boom"});
  EXPECT_EQ(g.status, 424);
  EXPECT_EQ(g.body(), R"({"error":"Request failed during generation: boom","error_type":"generation"})");
  EXPECT_EQ(ApiError::from(Error{ErrorKind::kValidation, "x"}).status, 422);
  EXPECT_EQ(ApiError::template_error("t").body(), R"({"error":"Template error: t","error_type":"template_error"})");
  EXPECT_EQ(ApiError::incomplete_generation().status, 500);
}

TEST(Metrics, RendersEveryTgiNameWithItsBuckets) {
  Metrics metrics(100, 200);
  metrics.request_count += 2;
  metrics.request_duration.observe(0.0002);
  std::string text = metrics.render(EngineCounters{});
  for (const char* name :
       {"tgi_request_count 2", "tgi_request_success 0", "tgi_request_failure{err=\"dropped\"} 0",
        "# TYPE tgi_request_duration histogram", "tgi_request_duration_bucket{le=\"0.0003375\"} 1", "tgi_request_duration_count 1",
        "tgi_request_input_length_bucket{le=\"1\"} 0", "tgi_request_input_length_bucket{le=\"100\"} 0",
        "tgi_request_generated_tokens_bucket{le=\"2\"} 0", "tgi_batch_next_size_bucket{le=\"1024\"} 0",
        "# TYPE tgi_request_skipped_tokens summary", "# TYPE tgi_queue_size gauge", "tgi_batch_current_size 0",
        "tgi_batch_current_max_tokens 0", "tgi_batch_concat{reason=\"chunking\"} 0",
        "tgi_batch_inference_count{method=\"decode\"} 0",
        "tgi_batch_forward_duration_bucket{method=\"decode\",le=\"+Inf\"} 0", "tgi_kv_cache_usage_ratio 0",
        "tgi_prefix_cache_hit_tokens 0", "tgi_preemptions 0"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(duration_buckets().size(), 35u);
}

}  // namespace
}  // namespace tgi::server
