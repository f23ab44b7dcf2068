#include "engine/logits_processors.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include <gtest/gtest.h>

namespace tgi::engine {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> log_of(std::vector<double> probs) {
  std::vector<float> out;
  for (double p : probs) out.push_back(static_cast<float>(std::log(p)));
  return out;
}

std::vector<bool> kept(const std::vector<float>& logits) {
  std::vector<bool> out;
  for (float x : logits) out.push_back(x != -kInf);
  return out;
}

TEST(LogitsProcessors, TemperatureDividesLogits) {
  std::vector<float> l{1, 2, -3};
  apply_temperature(l, 2.0f);
  EXPECT_EQ(l, (std::vector<float>{0.5f, 1.0f, -1.5f}));
}

TEST(LogitsProcessors, TopKKeepsTheKHighestAndTiesWithTheKth) {
  std::vector<float> l{1, 3, 2, 3};
  apply_top_k(l, 1);
  EXPECT_EQ(kept(l), (std::vector<bool>{false, true, false, true}));
  std::vector<float> m{1, 3, 2, 0};
  apply_top_k(m, 2);
  EXPECT_EQ(kept(m), (std::vector<bool>{false, true, true, false}));
}

TEST(LogitsProcessors, TopPKeepsTheSmallestSetReachingP) {
  // probabilities .5 .3 .15 .05
  auto l = log_of({0.05, 0.5, 0.15, 0.3});
  auto a = l;
  apply_top_p(a, 0.7f);  // .5 (0 before), .3 (.5 before) kept; .15 has .8 before
  EXPECT_EQ(kept(a), (std::vector<bool>{false, true, false, true}));
  auto b = l;
  apply_top_p(b, 0.85f);
  EXPECT_EQ(kept(b), (std::vector<bool>{false, true, true, true}));
  auto c = l;
  apply_top_p(c, 0.1f);  // the most likely token always survives
  EXPECT_EQ(kept(c), (std::vector<bool>{false, true, false, false}));
}

TEST(LogitsProcessors, TypicalPMatchesItsDefinition) {
  const std::vector<double> probs{0.4, 0.3, 0.2, 0.07, 0.03};
  double entropy = 0;
  for (double p : probs) entropy -= p * std::log(p);
  // Masses away from the cumulative sums themselves (.3, .5, .9, ...), where float rounding decides.
  for (float mass : {0.2f, 0.45f, 0.6f, 0.95f}) {
    // Reference, written from the definition: rank by |-log p - H|, keep the shortest prefix of
    // that ranking whose cumulative probability reaches `mass` (at least one token).
    std::vector<int> order(probs.size());
    std::iota(order.begin(), order.end(), 0);
    auto surprise_gap = [&](int i) { return std::abs(-std::log(probs[i]) - entropy); };
    std::sort(order.begin(), order.end(), [&](int a, int b) { return surprise_gap(a) < surprise_gap(b); });
    std::vector<bool> expected(probs.size(), false);
    double cumulative = 0;
    for (int i : order) {
      expected[i] = true;
      cumulative += probs[i];
      if (cumulative >= mass) break;
    }
    auto l = log_of(probs);
    apply_typical_p(l, mass);
    EXPECT_EQ(kept(l), expected) << "mass " << mass;
  }
}

TEST(LogitsProcessors, MinPDropsTokensBelowAFractionOfTheBest) {
  auto l = log_of({0.5, 0.3, 0.15, 0.05});
  apply_min_p(l, 0.2f);  // threshold .1
  EXPECT_EQ(kept(l), (std::vector<bool>{true, true, true, false}));
}

TEST(LogitsProcessors, RepetitionPenaltyDividesPositiveAndMultipliesNegativeOnce) {
  std::vector<float> l{2, -2, 1};
  const std::vector<int32_t> seen{0, 1, 0, 0};
  apply_repetition_penalty(l, seen, 2.0f);
  EXPECT_EQ(l, (std::vector<float>{1, -4, 1}));
}

TEST(LogitsProcessors, FrequencyAndPresencePenaltiesFollowOpenAi) {
  std::vector<float> l{1, 1, 1};
  const std::vector<int32_t> generated{0, 0, 1};
  apply_frequency_presence_penalty(l, generated, 0.5f, 0.25f);
  EXPECT_FLOAT_EQ(l[0], 1 - 2 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(l[1], 1 - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(l[2], 1);
}

TEST(LogitsProcessors, LogitBiasAddsAndIgnoresOutOfRangeIds) {
  std::vector<float> l{0, 0};
  const std::vector<std::pair<int32_t, float>> bias{{1, 5.0f}, {7, 1.0f}, {-1, 1.0f}};
  apply_logit_bias(l, bias);
  EXPECT_EQ(l, (std::vector<float>{0, 5}));
}

TEST(LogitsProcessors, WatermarkBoostsHalfTheVocabularyChosenByThePreviousToken) {
  const int32_t vocab = 101;
  auto green = watermark_greenlist(vocab, 42);
  EXPECT_EQ(green.size(), 50u);
  EXPECT_EQ(std::set<int32_t>(green.begin(), green.end()).size(), 50u);
  EXPECT_EQ(green, watermark_greenlist(vocab, 42));
  EXPECT_NE(green, watermark_greenlist(vocab, 43));
  std::vector<float> l(vocab, 0.0f);
  apply_watermark(l, 42);
  const std::set<int32_t> green_set(green.begin(), green.end());
  for (int32_t i = 0; i < vocab; ++i) EXPECT_EQ(l[i], green_set.count(i) ? kWatermarkDelta : 0.0f);
}

TEST(LogitsProcessors, SoftmaxAndLogSumExp) {
  std::vector<float> l{0, std::log(3.0f), -kInf};
  auto p = softmax(l);
  EXPECT_NEAR(p[0], 0.25, 1e-6);
  EXPECT_NEAR(p[1], 0.75, 1e-6);
  EXPECT_EQ(p[2], 0.0f);
  EXPECT_NEAR(log_sum_exp(l), std::log(4.0), 1e-6);
}

}  // namespace
}  // namespace tgi::engine

namespace tgi::engine {
namespace {

TEST(LogitsProcessors, TopPOverALargeVocabularyMatchesTheFullSortDefinition) {
  // 5000 tokens, a flat-ish distribution: the nucleus spans thousands of tokens, so the
  // incremental partial sort has to grow several times.
  std::vector<float> l(5000);
  for (size_t i = 0; i < l.size(); ++i) l[i] = static_cast<float>((i * 7919) % 1000) / 500.0f;
  for (float p : {0.05f, 0.5f, 0.9f, 0.99f}) {
    auto expected = l;
    {
      const auto probs = softmax(expected);
      std::vector<int32_t> order(expected.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return expected[a] > expected[b]; });
      double before = 0;
      for (size_t k = 0; k < order.size(); ++k) {
        if (k > 0 && before >= p) expected[order[k]] = -kInf;
        before += probs[order[k]];
      }
    }
    auto got = l;
    apply_top_p(got, p);
    EXPECT_EQ(kept(got), kept(expected)) << "p " << p;
  }
}

}  // namespace
}  // namespace tgi::engine
