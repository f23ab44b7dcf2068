#include "engine/logits_processors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

namespace tgi::engine {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

float log_sum_exp(std::span<const float> logits) {
  float max = kMasked;
  for (float x : logits) max = std::max(max, x);
  if (max == kMasked) return kMasked;
  double sum = 0;
  for (float x : logits) sum += std::exp(static_cast<double>(x) - max);
  return max + static_cast<float>(std::log(sum));
}

std::vector<float> softmax(std::span<const float> logits) {
  std::vector<float> probs(logits.size(), 0.0f);
  const float lse = log_sum_exp(logits);
  if (lse == kMasked) return probs;
  for (size_t i = 0; i < logits.size(); ++i)
    probs[i] = logits[i] == kMasked ? 0.0f : static_cast<float>(std::exp(static_cast<double>(logits[i]) - lse));
  return probs;
}

void apply_logit_bias(std::span<float> logits, std::span<const std::pair<int32_t, float>> bias) {
  for (const auto& [id, b] : bias)
    if (id >= 0 && static_cast<size_t>(id) < logits.size()) logits[id] += b;
}

void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> seen_tokens,
                              float penalty) {
  if (penalty == 1.0f) return;
  std::unordered_set<int32_t> done;
  for (int32_t t : seen_tokens) {
    if (t < 0 || static_cast<size_t>(t) >= logits.size() || !done.insert(t).second) continue;
    logits[t] = logits[t] < 0 ? logits[t] * penalty : logits[t] / penalty;
  }
}

void apply_frequency_presence_penalty(std::span<float> logits, std::span<const int32_t> generated,
                                      float frequency, float presence) {
  if (frequency == 0.0f && presence == 0.0f) return;
  std::unordered_map<int32_t, int32_t> counts;
  for (int32_t t : generated)
    if (t >= 0 && static_cast<size_t>(t) < logits.size()) ++counts[t];
  for (const auto& [t, n] : counts) logits[t] -= static_cast<float>(n) * frequency + presence;
}

void apply_temperature(std::span<float> logits, float temperature) {
  if (temperature == 1.0f || temperature <= 0.0f) return;
  for (float& x : logits) x /= temperature;
}

void apply_top_k(std::span<float> logits, int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= logits.size()) return;
  std::vector<float> sorted(logits.begin(), logits.end());
  std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<float>());
  const float threshold = sorted[k - 1];
  for (float& x : logits)
    if (x < threshold) x = kMasked;
}

void apply_top_p(std::span<float> logits, float p) {
  if (p >= 1.0f) return;
  const float lse = log_sum_exp(logits);
  if (lse == kMasked) return;
  std::vector<int32_t> order;
  order.reserve(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] != kMasked) order.push_back(static_cast<int32_t>(i));
  // Decreasing logit, ties by id: a total order, so the kept set never depends on sort internals.
  auto before = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  // The nucleus is usually tiny: sort a growing head of the vocabulary, not all of it.
  size_t sorted = std::min<size_t>(64, order.size());
  std::partial_sort(order.begin(), order.begin() + sorted, order.end(), before);
  double mass_before = 0;
  size_t keep = 0;
  while (keep < order.size() && (keep == 0 || mass_before < p)) {
    if (keep == sorted) {
      const size_t grown = std::min(order.size(), sorted * 4);
      std::partial_sort(order.begin() + sorted, order.begin() + grown, order.end(), before);
      sorted = grown;
    }
    mass_before += std::exp(static_cast<double>(logits[order[keep++]]) - lse);
  }
  for (size_t i = keep; i < order.size(); ++i) logits[order[i]] = kMasked;
}

void apply_typical_p(std::span<float> logits, float p) {
  if (p >= 1.0f) return;
  const float lse = log_sum_exp(logits);
  if (lse == kMasked) return;
  std::vector<int32_t> order;
  std::vector<double> shifted(logits.size(), std::numeric_limits<double>::infinity());
  std::vector<double> probs(logits.size(), 0.0);
  double entropy = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] == kMasked) continue;
    const double logp = static_cast<double>(logits[i]) - lse;
    probs[i] = std::exp(logp);
    entropy -= probs[i] * logp;
    order.push_back(static_cast<int32_t>(i));
  }
  for (int32_t i : order) shifted[i] = std::abs(-(static_cast<double>(logits[i]) - lse) - entropy);
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return shifted[a] < shifted[b]; });
  // HF: last_ind = number of tokens whose cumulative probability is still below p.
  double cumulative = 0;
  size_t last = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    cumulative += probs[order[i]];
    if (cumulative < p) last = i + 1;
  }
  last = std::min(last, order.size() - 1);
  const double cutoff = shifted[order[last]];
  for (size_t i = 0; i < logits.size(); ++i)
    if (logits[i] != kMasked && shifted[i] > cutoff) logits[i] = kMasked;
}

void apply_min_p(std::span<float> logits, float min_p) {
  if (min_p <= 0.0f) return;
  float max = kMasked;
  for (float x : logits) max = std::max(max, x);
  if (max == kMasked) return;
  // p_i >= min_p * p_max  <=>  x_i >= x_max + log(min_p)
  const float threshold = max + std::log(min_p);
  for (float& x : logits)
    if (x < threshold) x = kMasked;
}

std::vector<int32_t> watermark_greenlist(int32_t vocab_size, int32_t previous_token, float gamma) {
  const auto green = static_cast<int32_t>(static_cast<double>(vocab_size) * gamma);
  std::vector<int32_t> perm(vocab_size);
  std::iota(perm.begin(), perm.end(), 0);
  uint64_t state = kWatermarkHashKey * static_cast<uint64_t>(static_cast<uint32_t>(previous_token));
  // A partial Fisher-Yates shuffle: only the first `green` positions are needed.
  for (int32_t i = 0; i < green && i < vocab_size - 1; ++i) {
    const auto j = i + static_cast<int32_t>(splitmix64(state) % static_cast<uint64_t>(vocab_size - i));
    std::swap(perm[i], perm[j]);
  }
  perm.resize(green);
  return perm;
}

void apply_watermark(std::span<float> logits, int32_t previous_token, float gamma, float delta) {
  for (int32_t id : watermark_greenlist(static_cast<int32_t>(logits.size()), previous_token, gamma))
    logits[id] += delta;
}

}  // namespace tgi::engine
