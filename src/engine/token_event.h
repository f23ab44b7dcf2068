#pragma once
// What the engine streams back to the server for one request, in order:
// one kPrompt event (when prompt details were asked for), kToken events, then kEnd or kError.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace tgi::engine {

enum class FinishReason { kLength, kEosToken, kStopSequence };
const char* to_string(FinishReason reason);  // "length", "eos_token", "stop_sequence"

struct TokenInfo {
  int32_t id = 0;
  std::string text;        // this token's decoded piece, as TGI reports it in details
  float logprob = 0.0f;    // NaN where unknown (first prompt token)
  bool special = false;
};

struct TokenEvent {
  enum class Kind { kPrompt, kToken, kEnd, kError } kind = Kind::kToken;
  std::vector<TokenInfo> prompt;        // kPrompt: the prompt tokens with their logprobs
  TokenInfo token;                      // kToken
  std::vector<TokenInfo> top_tokens;    // kToken: top_n_tokens alternatives
  std::string text_delta;               // kToken: newly completed text (may be empty mid-UTF-8)
  // kEnd:
  std::optional<FinishReason> finish_reason;
  std::string generated_text;           // full text, stop sequence removed
  int32_t generated_tokens = 0;
  int32_t prompt_tokens = 0;
  int32_t cached_prompt_tokens = 0;
  std::optional<uint64_t> seed;
  double queue_seconds = 0, inference_seconds = 0;
  std::optional<Error> error;           // kError
};

}  // namespace tgi::engine
