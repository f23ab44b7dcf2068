#pragma once
// What the engine streams back to the server for one request, in order:
// one kPrompt event (when prompt details were asked for), kToken events, then kEnd or kError.
// With best_of = n > 1 each candidate streams its own kToken events and kEnd (see engine.h).
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
  int32_t candidate = 0;                // best_of candidate index (0 unless best_of > 1)
  std::vector<TokenInfo> prompt;        // kPrompt: the prompt tokens with their logprobs
  TokenInfo token;                      // kToken
  std::vector<TokenInfo> top_tokens;    // kToken: top_n_tokens alternatives
  // kToken: the sequence ends with this token; its kEnd follows immediately. Streams send every
  // other token at once and keep this one for the final event, which carries it (TGI's framing).
  bool last = false;
  // kToken: newly completed text for streaming (skip_special_tokens); empty mid-UTF-8.
  std::string text_delta;
  // kEnd:
  std::optional<FinishReason> finish_reason;
  std::string generated_text;           // full text, including a stop sequence that ended it (as TGI)
  int32_t generated_tokens = 0;
  int32_t prompt_tokens = 0;
  int32_t cached_prompt_tokens = 0;
  int32_t speculated_tokens = 0;        // generated tokens that were accepted proposals
  std::optional<uint64_t> seed;         // only when sampling was effective (TGI details.seed)
  float mean_logprob = 0.0f;            // over generated tokens (best_of ranking)
  bool best_of_winner = true;           // best_of > 1: true only on the winner's (last) kEnd
  double queue_seconds = 0, inference_seconds = 0;
  std::optional<Error> error;           // kError
};

}  // namespace tgi::engine
