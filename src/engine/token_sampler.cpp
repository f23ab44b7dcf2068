#include "engine/token_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/logits_processors.h"

namespace tgi::engine {
namespace {
constexpr float kMasked = -std::numeric_limits<float>::infinity();
}

bool sampling_effective(const SamplingParams& p) {
  return p.do_sample || p.temperature != 1.0f || p.top_k != 0 || p.top_p < 1.0f ||
         p.typical_p < 1.0f || p.min_p > 0.0f;
}

void process_logits(const SamplingParams& p, std::span<float> logits,
                    std::span<const int32_t> tokens, int32_t prompt_len) {
  apply_logit_bias(logits, p.logit_bias);
  if (p.watermark && !tokens.empty()) apply_watermark(logits, tokens.back());
  apply_repetition_penalty(logits, tokens, p.repetition_penalty);
  apply_frequency_presence_penalty(logits, tokens.subspan(std::min<size_t>(prompt_len, tokens.size())),
                                   p.frequency_penalty, p.presence_penalty);
  if (!sampling_effective(p)) return;
  apply_temperature(logits, p.temperature);
  apply_top_k(logits, p.top_k);
  apply_top_p(logits, p.top_p);
  apply_typical_p(logits, p.typical_p);
  apply_min_p(logits, p.min_p);
}

std::vector<std::pair<int32_t, float>> top_logprobs(std::span<const float> logits, int32_t n) {
  std::vector<std::pair<int32_t, float>> top;
  if (n <= 0) return top;
  const float lse = log_sum_exp(logits);
  if (lse == kMasked) return top;
  std::vector<int32_t> ids;
  ids.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] != kMasked && !std::isnan(logits[i])) ids.push_back(static_cast<int32_t>(i));
  auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  const size_t k = std::min<size_t>(n, ids.size());
  if (k == 0) return top;
  std::nth_element(ids.begin(), ids.begin() + (k - 1), ids.end(), better);
  const float threshold = logits[ids[k - 1]];
  std::vector<int32_t> chosen;
  for (int32_t id : ids)
    if (logits[id] >= threshold) chosen.push_back(id);
  std::sort(chosen.begin(), chosen.end(), better);
  for (int32_t id : chosen) top.emplace_back(id, logits[id] - lse);
  return top;
}

TokenSampler::TokenSampler(SamplingParams params, uint64_t seed, int32_t top_n_tokens)
    : params_(std::move(params)),
      sampling_(sampling_effective(params_)),
      top_n_(top_n_tokens),
      seed_(seed),
      rng_(seed) {}

SampledToken TokenSampler::next(std::span<float> logits, std::span<const int32_t> tokens,
                                int32_t prompt_len) {
  process_logits(params_, logits, tokens, prompt_len);
  const float lse = log_sum_exp(logits);
  SampledToken out;
  int32_t chosen = -1;
  if (sampling_ && lse != kMasked) {
    // Inverse CDF over token ids in order: one 53-bit uniform per token.
    const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
    double cumulative = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      if (logits[i] == kMasked) continue;
      chosen = static_cast<int32_t>(i);
      cumulative += std::exp(static_cast<double>(logits[i]) - lse);
      if (u < cumulative) break;
    }
  } else if (!logits.empty()) {
    chosen = 0;  // argmax; the lowest id wins ties
    for (size_t i = 1; i < logits.size(); ++i)
      if (logits[i] > logits[chosen]) chosen = static_cast<int32_t>(i);
  }
  if (chosen < 0) chosen = 0;
  out.id = chosen;
  out.logprob = lse == kMasked ? kMasked : logits[chosen] - lse;
  out.top = top_logprobs(logits, top_n_);
  return out;
}

}  // namespace tgi::engine
