#pragma once
// Response bodies and SSE events byte-for-byte as TGI writes them (spec §1.6, §1.7, §1.9, §1.10):
// TGI's key order, f32 logprobs printed at f32 precision, non-finite numbers as null.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/token_event.h"
#include "server/http_types.h"

namespace tgi::server {

// Ordered keys (TGI's struct order) and f32 numbers, as serde prints them.
using OutJson = nlohmann::basic_json<nlohmann::ordered_map, std::vector, std::string, bool, std::int64_t,
                                     std::uint64_t, float>;

std::string dump(const OutJson& value);
std::string sse_event(const std::string& data);  // "data: <data>\n\n"
// `base` plus the headers of every SSE stream (event-stream type, no caching, no proxy buffering).
HttpHeaders sse_headers(HttpHeaders base);
// Seconds since the Unix epoch: the `created` of OpenAI objects.
int64_t unix_seconds_now();

// Everything a finished (or failed) generation produced, accumulated from its TokenEvents.
struct GenerationResult {
  std::vector<engine::TokenInfo> prefill;
  std::vector<engine::TokenInfo> tokens;
  std::vector<std::vector<engine::TokenInfo>> top_tokens;
  std::string generated_text;
  engine::FinishReason finish_reason = engine::FinishReason::kLength;
  int64_t generated_tokens = 0;
  int64_t speculated_tokens = 0;  // of those, accepted speculative proposals
  int64_t input_length = 0;
  std::optional<uint64_t> seed;  // already null when sampling was not effective
  double queue_seconds = 0, inference_seconds = 0;
};

// The generation parts of a response that depend on the request.
struct ResponseShape {
  bool details = false;
  bool decoder_input_details = false;
  bool return_full_text = false;
  std::string inputs;  // prepended when return_full_text
};

OutJson token_json(const engine::TokenInfo& token);
OutJson generate_response_json(const GenerationResult& result, const ResponseShape& shape,
                               const std::vector<GenerationResult>& other_best_of = {});
// One /generate_stream event; `final_result` set on the last token.
std::string generate_stream_event(int64_t index, const engine::TokenInfo& token,
                                  const std::vector<engine::TokenInfo>& top_tokens,
                                  const GenerationResult* final_result, const ResponseShape& shape);

// OpenAI-style pieces.
struct OpenAiIdentity {
  std::string model;
  std::string system_fingerprint;
  int64_t created = 0;
};
const char* finish_reason_name(engine::FinishReason reason);    // TGI's raw form
const char* openai_finish_reason(engine::FinishReason reason);  // eos_token → "stop"
OutJson chat_logprob_json(const engine::TokenInfo& token, const std::vector<engine::TokenInfo>& top);
OutJson usage_json(int64_t prompt_tokens, int64_t completion_tokens);
struct ChatChoice {
  int64_t index = 0;
  OutJson message;
  OutJson logprobs;  // null or {"content": [...]}
  std::string finish_reason;
};
std::string chat_completion_json(const OpenAiIdentity& id, const std::vector<ChatChoice>& choices,
                                 int64_t prompt_tokens, int64_t completion_tokens);
std::string chat_chunk_json(const OpenAiIdentity& id, const OutJson& delta, const OutJson& logprobs,
                            const OutJson& finish_reason, int64_t index = 0);
std::string chat_usage_chunk_json(const OpenAiIdentity& id, int64_t prompt_tokens, int64_t completion_tokens);
std::string openai_stream_error(const std::string& message);  // {"error":{"message","http_status_code":422}}

struct CompletionChoice {
  int64_t index = 0;
  std::string text;
  std::string finish_reason;
  OutJson logprobs;  // null, or {tokens, token_logprobs, top_logprobs, text_offset}
};
std::string completion_json(const OpenAiIdentity& id, const std::vector<CompletionChoice>& choices,
                            int64_t prompt_tokens, int64_t completion_tokens);
std::string completion_chunk_json(const OpenAiIdentity& id, int64_t index, const std::string& text,
                                  const OutJson& logprobs = nullptr);
std::string completion_final_chunk_json(const OpenAiIdentity& id, int64_t index, const std::string& text,
                                        const char* raw_finish_reason, int64_t prompt_tokens,
                                        int64_t completion_tokens, const OutJson& logprobs = nullptr);
// OpenAI's legacy completion logprobs for `tokens`: {tokens, token_logprobs, top_logprobs,
// text_offset}, offsets counted in bytes from `first_offset`.
OutJson completion_logprobs_json(const std::vector<engine::TokenInfo>& tokens,
                                 const std::vector<std::vector<engine::TokenInfo>>& top_tokens,
                                 int64_t first_offset);

}  // namespace tgi::server
