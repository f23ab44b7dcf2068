#include "engine/token_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tgi::engine {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

// Buffers reused from token to token, so a step allocates nothing for them. Per thread rather
// than per sampler: the engine loop samples every sequence on one thread, and sampling without
// top-k fills them with the whole vocabulary, which a hundred sequences should not each keep.
struct Scratch {
  CandidateTokens candidates;
  std::vector<float> values;
};

Scratch& thread_scratch() {
  thread_local Scratch scratch;
  return scratch;
}

void apply_penalties(const SamplingParams& p, std::span<float> logits, std::span<const int32_t> tokens,
                     int32_t prompt_len) {
  apply_logit_bias(logits, p.logit_bias);
  if (p.watermark && !tokens.empty()) apply_watermark(logits, tokens.back());
  apply_repetition_penalty(logits, tokens, p.repetition_penalty);
  apply_frequency_presence_penalty(logits, tokens.subspan(std::min<size_t>(prompt_len, tokens.size())),
                                   p.frequency_penalty, p.presence_penalty);
}

// The sampling filters in TGI's order, from a penalized row to the tokens that may be drawn.
void select_candidates(const SamplingParams& p, std::span<const float> logits, CandidateTokens& out,
                       std::vector<float>& scratch) {
  select_top_k(logits, p.temperature, p.top_k, out, scratch);  // top_k 0: every token, scaled
  apply_top_p(out, p.top_p);
  apply_typical_p(out, p.typical_p);
  apply_min_p(out, p.min_p);
}

}  // namespace

bool sampling_effective(const SamplingParams& p) {
  return p.do_sample || p.temperature != 1.0f || p.top_k != 0 || p.top_p < 1.0f ||
         p.typical_p < 1.0f || p.min_p > 0.0f;
}

void process_logits(const SamplingParams& p, std::span<float> logits,
                    std::span<const int32_t> tokens, int32_t prompt_len) {
  apply_penalties(p, logits, tokens, prompt_len);
  if (!sampling_effective(p)) return;
  CandidateTokens candidates;
  std::vector<float> scratch;
  select_candidates(p, logits, candidates, scratch);
  scatter_candidates(candidates, logits);
}

std::vector<std::pair<int32_t, float>> top_logprobs(std::span<const float> logits, int32_t n) {
  if (n <= 0) return {};
  CandidateTokens candidates;
  std::vector<float> scratch;
  return best_of_row(logits, n, argmax_and_log_sum_exp(logits).log_sum_exp, candidates, scratch);
}

TokenSampler::TokenSampler(SamplingParams params, uint64_t seed, int32_t top_n_tokens)
    : params_(std::move(params)),
      sampling_(sampling_effective(params_)),
      top_n_(top_n_tokens),
      seed_(seed),
      rng_(seed) {}

SampledToken TokenSampler::next(std::span<float> logits, std::span<const int32_t> tokens,
                                int32_t prompt_len) {
  apply_penalties(params_, logits, tokens, prompt_len);
  Scratch& scratch = thread_scratch();
  CandidateTokens& candidates = scratch.candidates;
  SampledToken out;
  if (!sampling_) {
    const ArgmaxLogSumExp best = argmax_and_log_sum_exp(logits);
    out.id = best.argmax;
    out.logprob = best.log_sum_exp == kMasked ? kMasked : logits[best.argmax] - best.log_sum_exp;
    out.top = best_of_row(logits, top_n_, best.log_sum_exp, candidates, scratch.values);
    return out;
  }
  select_candidates(params_, logits, candidates, scratch.values);
  const float lse = log_sum_exp(candidates.logits);
  if (lse == kMasked) {
    out.logprob = kMasked;  // nothing left to draw from: token 0, as an argmax over -inf gives
    return out;
  }
  // Inverse CDF over token ids in order: one 53-bit uniform per token.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  const size_t chosen = inverse_cdf_index(candidates.logits, lse, u);
  out.id = candidates.ids[chosen];
  out.logprob = candidates.logits[chosen] - lse;
  out.top = best_candidates(candidates, top_n_, lse);
  return out;
}

}  // namespace tgi::engine
