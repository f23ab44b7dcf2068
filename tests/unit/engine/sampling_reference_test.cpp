// The sampler's fast paths (vectorized argmax + log-sum-exp, top-k by selection, filters over the
// surviving candidates only) against a straightforward reference over the full row: the whole
// vocabulary processed in place, full sorts, masked tokens as -infinity. Same seed, same tokens:
// sampled ids, their logprobs and the top-n ids must be bit-for-bit the reference's; greedy
// logprobs (a vectorized exp) within 1e-5.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/logits_processors.h"
#include "engine/token_sampler.h"

namespace tgi::engine {
namespace {

constexpr float kMasked = -std::numeric_limits<float>::infinity();

// --- the reference: every step over the full row, the obvious way ------------------------------

float reference_log_sum_exp(const std::vector<float>& x) {
  float max = kMasked;
  for (float v : x) max = std::max(max, v);
  if (max == kMasked) return kMasked;
  double sum = 0;
  for (float v : x) sum += std::exp(static_cast<double>(v) - max);
  return max + static_cast<float>(std::log(sum));
}

// Unmasked ids by decreasing logit, ties by increasing id.
std::vector<int32_t> ranked(const std::vector<float>& x) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i] != kMasked) ids.push_back(static_cast<int32_t>(i));
  std::sort(ids.begin(), ids.end(),
            [&](int32_t a, int32_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); });
  return ids;
}

void reference_penalties(const SamplingParams& p, std::vector<float>& x, const std::vector<int32_t>& tokens,
                         size_t prompt_len) {
  for (const auto& [id, bias] : p.logit_bias)
    if (id >= 0 && static_cast<size_t>(id) < x.size()) x[id] += bias;
  if (p.repetition_penalty != 1.0f)
    for (int32_t t : std::set<int32_t>(tokens.begin(), tokens.end()))
      x[t] = x[t] < 0 ? x[t] * p.repetition_penalty : x[t] / p.repetition_penalty;
  if (p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f) {
    const std::vector<int32_t> generated(tokens.begin() + static_cast<std::ptrdiff_t>(prompt_len),
                                         tokens.end());
    for (int32_t t : std::set<int32_t>(generated.begin(), generated.end())) {
      const auto count = std::count(generated.begin(), generated.end(), t);
      x[t] -= static_cast<float>(count) * p.frequency_penalty + p.presence_penalty;
    }
  }
}

void reference_filters(const SamplingParams& p, std::vector<float>& x) {
  if (p.temperature != 1.0f && p.temperature > 0.0f)
    for (float& v : x) v /= p.temperature;
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < x.size()) {
    std::vector<float> sorted = x;
    std::sort(sorted.begin(), sorted.end(), std::greater<float>());
    const float kth = sorted[p.top_k - 1];
    for (float& v : x)
      if (v < kth) v = kMasked;
  }
  if (p.top_p < 1.0f) {
    const float lse = reference_log_sum_exp(x);
    const std::vector<int32_t> order = ranked(x);
    double before = 0;
    for (size_t i = 0; i < order.size(); ++i) {
      const float v = x[order[i]];
      if (i > 0 && before >= p.top_p) x[order[i]] = kMasked;
      before += std::exp(static_cast<double>(v) - lse);
    }
  }
  if (p.typical_p < 1.0f && reference_log_sum_exp(x) != kMasked) {
    const float lse = reference_log_sum_exp(x);
    std::vector<int32_t> ids;
    double entropy = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i] == kMasked) continue;
      const double logp = static_cast<double>(x[i]) - lse;
      entropy -= std::exp(logp) * logp;
      ids.push_back(static_cast<int32_t>(i));
    }
    auto gap = [&](int32_t i) { return std::abs(-(static_cast<double>(x[i]) - lse) - entropy); };
    std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return gap(a) < gap(b); });
    double cumulative = 0;
    size_t last = 0;  // tokens whose cumulative mass is still below p; keep one more
    for (size_t i = 0; i < ids.size(); ++i) {
      cumulative += std::exp(static_cast<double>(x[ids[i]]) - lse);
      if (cumulative < p.typical_p) last = i + 1;
    }
    const double cutoff = gap(ids[std::min(last, ids.size() - 1)]);
    for (int32_t i : ids)
      if (gap(i) > cutoff) x[i] = kMasked;
  }
  if (p.min_p > 0.0f) {
    const float threshold = *std::max_element(x.begin(), x.end()) + std::log(p.min_p);
    for (float& v : x)
      if (v < threshold) v = kMasked;
  }
}

std::vector<std::pair<int32_t, float>> reference_top(const std::vector<float>& x, int32_t n, float lse) {
  std::vector<std::pair<int32_t, float>> top;
  const std::vector<int32_t> order = ranked(x);
  if (n <= 0 || order.empty() || lse == kMasked) return top;
  const float nth = x[order[std::min<size_t>(n, order.size()) - 1]];
  for (int32_t id : order)
    if (x[id] >= nth) top.emplace_back(id, x[id] - lse);
  return top;
}

SampledToken reference_next(const SamplingParams& p, std::mt19937_64& rng, int32_t top_n,
                            std::vector<float> x, const std::vector<int32_t>& tokens, size_t prompt_len) {
  reference_penalties(p, x, tokens, prompt_len);
  SampledToken out;
  if (!sampling_effective(p)) {
    out.id = static_cast<int32_t>(std::max_element(x.begin(), x.end()) - x.begin());  // first of equals
    const float lse = reference_log_sum_exp(x);
    out.logprob = lse == kMasked ? kMasked : x[out.id] - lse;
    out.top = reference_top(x, top_n, lse);
    return out;
  }
  reference_filters(p, x);
  const float lse = reference_log_sum_exp(x);
  if (lse == kMasked) {
    out.logprob = kMasked;
    return out;
  }
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  double cumulative = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == kMasked) continue;
    out.id = static_cast<int32_t>(i);
    cumulative += std::exp(static_cast<double>(x[i]) - lse);
    if (u < cumulative) break;
  }
  out.logprob = x[out.id] - lse;
  out.top = reference_top(x, top_n, lse);
  return out;
}

// --- random rows ------------------------------------------------------------------------------

enum class Shape { kSpread, kFlat, kTies, kMaskedThird };

std::vector<float> random_row(std::mt19937& rng, size_t vocab, Shape shape) {
  std::normal_distribution<float> normal(0.0f, shape == Shape::kFlat ? 0.5f : 4.0f);
  std::vector<float> x(vocab);
  for (float& v : x) v = normal(rng);
  if (shape == Shape::kTies)
    for (float& v : x) v = std::round(v);  // a few dozen distinct values, many ties at every rank
  if (shape == Shape::kMaskedThird)
    for (size_t i = 0; i < vocab; i += 3) x[i] = kMasked;
  return x;
}

struct Case {
  std::string name;
  SamplingParams params;
  int32_t top_n = 0;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  auto add = [&](std::string name, auto set, int32_t top_n = 0) {
    SamplingParams p;
    set(p);
    out.push_back({std::move(name), p, top_n});
  };
  add("greedy", [](SamplingParams&) {});
  add(
      "greedy with top_n_tokens", [](SamplingParams&) {}, 3);
  add("greedy with penalties", [](SamplingParams& p) {
    p.repetition_penalty = 1.3f;
    p.frequency_penalty = 0.4f;
    p.presence_penalty = 0.2f;
  });
  add(
      "top_k 50 top_p 0.9",
      [](SamplingParams& p) {
        p.do_sample = true;
        p.top_k = 50;
        p.top_p = 0.9f;
      },
      2);
  add("top_k 1", [](SamplingParams& p) { p.top_k = 1; });
  add("top_k > vocabulary", [](SamplingParams& p) {
    p.do_sample = true;
    p.top_k = 1 << 30;
  });
  add("top_k with temperature 0.7", [](SamplingParams& p) {
    p.top_k = 5;
    p.temperature = 0.7f;
  });
  add(
      "top_k with temperature 3.3 and repetition penalty",
      [](SamplingParams& p) {
        p.top_k = 40;
        p.temperature = 3.3f;
        p.repetition_penalty = 1.2f;
      },
      4);
  add("large top_k with temperature and top_p", [](SamplingParams& p) {
    p.top_k = 2000;
    p.temperature = 1.9f;
    p.top_p = 0.95f;
  });
  add("top_p 1", [](SamplingParams& p) {
    p.do_sample = true;
    p.top_k = 20;
    p.top_p = 1.0f;
  });
  add("tiny top_p", [](SamplingParams& p) { p.top_p = 1e-6f; });
  add(
      "top_p 0.5 alone", [](SamplingParams& p) { p.top_p = 0.5f; }, 1);
  add("typical_p 0.9 after top_k", [](SamplingParams& p) {
    p.top_k = 100;
    p.typical_p = 0.9f;
  });
  add("typical_p 0.5 alone", [](SamplingParams& p) { p.typical_p = 0.5f; });
  add("min_p after top_k and temperature", [](SamplingParams& p) {
    p.top_k = 64;
    p.temperature = 0.5f;
    p.min_p = 0.1f;
  });
  add("min_p alone", [](SamplingParams& p) { p.min_p = 0.05f; });
  add(
      "temperature alone", [](SamplingParams& p) { p.temperature = 0.8f; }, 2);
  add("do_sample alone with logit_bias", [](SamplingParams& p) {
    p.do_sample = true;
    p.logit_bias = {{3, 6.0f}, {4, -50.0f}, {1 << 30, 1.0f}};
  });
  return out;
}

void expect_same(const SampledToken& got, const SampledToken& want, bool sampling, const std::string& where) {
  ASSERT_EQ(got.id, want.id) << where;
  if (sampling || want.logprob == kMasked) {
    EXPECT_EQ(got.logprob, want.logprob) << where;
  } else {
    EXPECT_NEAR(got.logprob, want.logprob, 1e-5) << where;
  }
  ASSERT_EQ(got.top.size(), want.top.size()) << where;
  for (size_t i = 0; i < got.top.size(); ++i) {
    EXPECT_EQ(got.top[i].first, want.top[i].first) << where << " top " << i;
    EXPECT_NEAR(got.top[i].second, want.top[i].second, sampling ? 0.0 : 1e-5) << where << " top " << i;
  }
}

TEST(SamplingReference, FastPathsDrawTheReferenceTokensForEverySeed) {
  const Shape shapes[] = {Shape::kSpread, Shape::kFlat, Shape::kTies, Shape::kMaskedThird};
  for (const Case& c : cases()) {
    for (size_t vocab : {1, 7, 100, 3000}) {
      for (uint64_t seed = 0; seed < 24; ++seed) {
        std::mt19937 row_rng(static_cast<uint32_t>(seed * 1000 + vocab));
        const Shape shape = shapes[seed % 4];
        TokenSampler sampler(c.params, seed, c.top_n);
        std::mt19937_64 reference_rng(seed);
        std::vector<int32_t> tokens{0, static_cast<int32_t>(vocab - 1)};
        const size_t prompt_len = tokens.size();
        for (int step = 0; step < 12; ++step) {
          const std::vector<float> row = random_row(row_rng, vocab, shape);
          const SampledToken want = reference_next(c.params, reference_rng, c.top_n, row, tokens, prompt_len);
          std::vector<float> scratch = row;
          const SampledToken got = sampler.next(scratch, tokens, static_cast<int32_t>(prompt_len));
          const std::string where = c.name + ", vocab " + std::to_string(vocab) + ", seed " +
                                    std::to_string(seed) + ", step " + std::to_string(step);
          ASSERT_NO_FATAL_FAILURE(expect_same(got, want, sampler.sampling(), where));
          tokens.push_back(want.id);
        }
      }
    }
  }
}

TEST(SamplingReference, AFullVocabularyRowDrawsTheReferenceTokens) {
  // Qwen3's vocabulary size: the blocked argmax/log-sum-exp and the selection passes see every
  // remainder and many blocks.
  const size_t vocab = 151936;
  for (const Case& c : cases()) {
    for (uint64_t seed = 0; seed < 3; ++seed) {
      std::mt19937 row_rng(static_cast<uint32_t>(seed + 77));
      TokenSampler sampler(c.params, seed, c.top_n);
      std::mt19937_64 reference_rng(seed);
      std::vector<int32_t> tokens{5, 6};
      for (int step = 0; step < 3; ++step) {
        const std::vector<float> row = random_row(row_rng, vocab, seed == 1 ? Shape::kTies : Shape::kSpread);
        const SampledToken want = reference_next(c.params, reference_rng, c.top_n, row, tokens, 2);
        std::vector<float> scratch = row;
        const SampledToken got = sampler.next(scratch, tokens, 2);
        ASSERT_NO_FATAL_FAILURE(
            expect_same(got, want, sampler.sampling(), c.name + ", seed " + std::to_string(seed)));
        tokens.push_back(want.id);
      }
    }
  }
}

TEST(SamplingReference, TopKAfterTemperatureKeepsLogitsThatRoundToTheKth) {
  // Below the k-th logit sit its float neighbours; dividing by a temperature above 1 rounds some
  // of them onto the k-th's scaled value, and those are ties with the k-th that must survive.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> value(-20.0f, 20.0f), temperature(1.05f, 9.0f);
  int collisions = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const float kth = value(rng), t = temperature(rng);
    // Before or after the k-th in the row: the one-pass selection sees them at different floors.
    std::vector<float> row(256, kth - 100.0f);
    std::vector<size_t> at(256);
    std::iota(at.begin(), at.end(), 0);
    std::shuffle(at.begin(), at.end(), rng);
    row[at[0]] = kth + 1.0f;
    row[at[1]] = kth;
    float below = kth;
    for (int i = 2; i < 6; ++i) row[at[i]] = below = std::nextafter(below, kMasked);
    collisions += row[at[2]] / t == kth / t;
    std::vector<float> reference = row;
    for (float& v : reference) v /= t;
    std::vector<float> sorted = reference;
    std::sort(sorted.begin(), sorted.end(), std::greater<float>());
    CandidateTokens got;
    std::vector<float> scratch;
    select_top_k(row, t, 2, got, scratch);
    std::vector<int32_t> want_ids;
    std::vector<float> want_logits;
    for (size_t i = 0; i < reference.size(); ++i)
      if (reference[i] >= sorted[1]) {
        want_ids.push_back(static_cast<int32_t>(i));
        want_logits.push_back(reference[i]);
      }
    ASSERT_EQ(got.ids, want_ids) << "kth " << kth << " temperature " << t;
    ASSERT_EQ(got.logits, want_logits);
  }
  EXPECT_GT(collisions, 100) << "the trials must exercise rounding ties";
}

TEST(SamplingReference, ArgmaxAndLogSumExpMatchTheDoublePrecisionSum) {
  std::mt19937 rng(11);
  for (size_t n : {0, 1, 7, 8, 31, 33, 1023, 1024, 1025, 5000, 70001}) {
    for (Shape shape : {Shape::kSpread, Shape::kTies, Shape::kMaskedThird}) {
      std::vector<float> row = random_row(rng, n, shape);
      const ArgmaxLogSumExp got = argmax_and_log_sum_exp(row);
      if (n == 0) {
        EXPECT_EQ(got.log_sum_exp, kMasked);
        EXPECT_EQ(got.argmax, 0);
        continue;
      }
      EXPECT_EQ(got.argmax, std::max_element(row.begin(), row.end()) - row.begin()) << n;
      if (log_sum_exp(row) == kMasked) {
        EXPECT_EQ(got.log_sum_exp, kMasked) << n;
      } else {
        EXPECT_NEAR(got.log_sum_exp, log_sum_exp(row), 1e-5) << n;
      }
    }
  }
  const std::vector<float> masked(100, kMasked);
  EXPECT_EQ(argmax_and_log_sum_exp(masked).log_sum_exp, kMasked);
  EXPECT_EQ(argmax_and_log_sum_exp(masked).argmax, 0);
  // The maximum in a later block than an earlier equal-but-smaller run: the sum is rescaled.
  std::vector<float> rising(4096);
  for (size_t i = 0; i < rising.size(); ++i) rising[i] = static_cast<float>(i) / 64.0f;
  EXPECT_EQ(argmax_and_log_sum_exp(rising).argmax, 4095);
  EXPECT_NEAR(argmax_and_log_sum_exp(rising).log_sum_exp, log_sum_exp(rising), 1e-5);
}

float libm_log_sum_exp(const std::vector<float>& x) {
  return reference_log_sum_exp(x);
}

size_t libm_inverse_cdf(const std::vector<float>& x, float lse, double u) {
  size_t chosen = 0;
  double cumulative = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    chosen = i;
    cumulative += std::exp(static_cast<double>(x[i]) - lse);
    if (u < cumulative) break;
  }
  return chosen;
}

TEST(SamplingReference, LogSumExpIsTheLibmSumBitForBit) {
  // Spread rows take the vectorized path; a row whose mass is all on one token (sum 1 + 1e-8)
  // leaves the float rounding open and takes the libm loop; both must give the libm result.
  std::mt19937 rng(13);
  for (size_t n : {1, 5, 64, 1000, 151936}) {
    for (int trial = 0; trial < 6; ++trial) {
      std::vector<float> row = random_row(rng, n, trial % 2 ? Shape::kTies : Shape::kSpread);
      if (trial == 4) {
        std::fill(row.begin(), row.end(), -30.0f);
        row[n / 2] = 0.0f;
      }
      if (trial == 5 && n > 1) row[n - 1] = std::numeric_limits<float>::quiet_NaN();
      const float got = log_sum_exp(row), want = libm_log_sum_exp(row);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << n;
      } else {
        EXPECT_EQ(got, want) << "n " << n << " trial " << trial;
      }
    }
  }
}

TEST(SamplingReference, InverseCdfIsTheLibmWalkEvenWhereUTouchesAPartialSum) {
  std::mt19937 rng(17);
  for (size_t n : {1, 3, 255, 256, 257, 4000}) {
    const std::vector<float> row = random_row(rng, n, Shape::kSpread);
    const float lse = libm_log_sum_exp(row);
    std::vector<double> draws{0.0, 0.5, 0.999999, 1.0 - 0x1p-53};
    // u exactly at, just below and just above the libm partial sums: where a looser walk would
    // pick a neighbour.
    double cumulative = 0;
    for (size_t i = 0; i < n; ++i) {
      cumulative += std::exp(static_cast<double>(row[i]) - lse);
      if (i % std::max<size_t>(1, n / 16) != 0 && i + 1 != n) continue;
      draws.insert(draws.end(),
                   {cumulative, std::nextafter(cumulative, 0.0), std::nextafter(cumulative, 2.0)});
    }
    for (double u : draws)
      EXPECT_EQ(inverse_cdf_index(row, lse, u), libm_inverse_cdf(row, lse, u)) << n << " u " << u;
  }
}

}  // namespace
}  // namespace tgi::engine
