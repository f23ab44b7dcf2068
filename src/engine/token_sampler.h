#pragma once
// Chooses a sequence's next token from one row of logits: the logits processors in TGI's order
// (logit_bias, watermark, repetition, frequency/presence, then — only when sampling —
// temperature, top-k, top-p, typical-p, min-p), then a draw or argmax, plus logprobs.
//
// Each sequence owns its sampler and its RNG (mt19937_64, whose output the standard fixes), and
// draws exactly one number per sampled token, so the same seed gives the same tokens whatever
// else shares the batch, and preemption (which never samples while recomputing) changes nothing.
//
// Cost per token over a 152k vocabulary: greedy reads the row once (argmax and a vectorized
// log-sum-exp, ~60 µs); sampling with top-k reads it about twice and then works on the k
// survivors only (~40-80 µs). Sampling without top-k keeps the whole vocabulary in play: its
// log-sum-exp and draw are vectorized yet give exactly the libm results they always gave
// (~0.5 ms), and top-p/typical-p then sort what they keep. The same seed gives the same tokens,
// bit for bit, as before any of this was made fast (tests/unit/engine/sampling_reference_test).
#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "engine/generation_request.h"
#include "engine/logits_processors.h"

namespace tgi::engine {

// TGI: sample iff do_sample or temperature != 1 or top_k != 0 or top_p < 1 or typical_p < 1;
// min_p > 0 counts as well.
bool sampling_effective(const SamplingParams& params);

// Applies the processors next() applies, in place (filtered tokens become -infinity).
// `tokens` = prompt then generated.
void process_logits(const SamplingParams& params, std::span<float> logits,
                    std::span<const int32_t> tokens, int32_t prompt_len);

// The n best (id, logprob) of a row, best first; entries tied with the n-th are included
// (TGI may return more than n on ties). Masked tokens never appear.
std::vector<std::pair<int32_t, float>> top_logprobs(std::span<const float> logits, int32_t n);

struct SampledToken {
  int32_t id = 0;
  float logprob = 0.0f;  // log-softmax of the processed logits at `id`
  std::vector<std::pair<int32_t, float>> top;  // top_n_tokens alternatives
};

class TokenSampler {
 public:
  TokenSampler(SamplingParams params, uint64_t seed, int32_t top_n_tokens);

  bool sampling() const { return sampling_; }
  uint64_t seed() const { return seed_; }
  // `logits` is scratch: the penalties are applied to it in place.
  SampledToken next(std::span<float> logits, std::span<const int32_t> tokens, int32_t prompt_len);

 private:
  SamplingParams params_;
  bool sampling_;
  int32_t top_n_;
  uint64_t seed_;
  std::mt19937_64 rng_;
};

}  // namespace tgi::engine
