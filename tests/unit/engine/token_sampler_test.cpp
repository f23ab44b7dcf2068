#include "engine/token_sampler.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "engine/logits_processors.h"

namespace tgi::engine {
namespace {

const std::vector<float> kLogits{1.0f, 2.5f, 0.3f, -1.0f, 2.0f, 0.0f, 1.7f, -3.0f};

TEST(TokenSampler, SamplingIsEffectiveByTgisRule) {
  SamplingParams p;
  EXPECT_FALSE(sampling_effective(p));
  p.temperature = 0.5f;
  EXPECT_TRUE(sampling_effective(p));
  p = {};
  p.top_k = 3;
  EXPECT_TRUE(sampling_effective(p));
  p = {};
  p.repetition_penalty = 1.3f;
  EXPECT_FALSE(sampling_effective(p));
}

TEST(TokenSampler, GreedyTakesTheArgmaxWithItsLogprob) {
  TokenSampler sampler({}, 0, 0);
  auto row = kLogits;
  auto t = sampler.next(row, {}, 0);
  EXPECT_EQ(t.id, 1);
  EXPECT_NEAR(t.logprob, kLogits[1] - log_sum_exp(kLogits), 1e-6);
}

TEST(TokenSampler, EmpiricalFrequenciesMatchTheProcessedDistribution) {
  SamplingParams p;
  p.do_sample = true;
  p.temperature = 0.7f;
  p.top_k = 6;
  p.top_p = 0.95f;
  auto processed = kLogits;
  process_logits(p, processed, {}, 0);
  const std::vector<float> probs = softmax(processed);

  TokenSampler sampler(p, /*seed=*/20240531, 0);
  const int draws = 40000;
  std::vector<int> counts(kLogits.size(), 0);
  for (int i = 0; i < draws; ++i) {
    auto row = kLogits;
    ++counts[sampler.next(row, {}, 0).id];
  }
  double chi2 = 0;
  int categories = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "masked token " << i << " was drawn";
      continue;
    }
    const double expected = probs[i] * draws;
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
    ++categories;
  }
  EXPECT_GE(categories, 3);
  // The seed is fixed, so this is deterministic; 99.99th percentile of chi-square with <= 7 df
  // is < 30, so a correct sampler passes with a wide margin and a biased one fails.
  EXPECT_LT(chi2, 30.0) << "chi2 over " << categories << " categories";
}

TEST(TokenSampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  SamplingParams p;
  p.do_sample = true;
  auto run = [&](uint64_t seed) {
    TokenSampler sampler(p, seed, 0);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i) {
      auto row = kLogits;
      out.push_back(sampler.next(row, {}, 0).id);
    }
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(TokenSampler, LogprobIsOfTheProcessedDistribution) {
  SamplingParams p;
  p.temperature = 0.5f;
  p.top_k = 2;
  TokenSampler sampler(p, 3, 0);
  auto row = kLogits;
  auto t = sampler.next(row, {}, 0);
  // Two survivors: 2.5/0.5 and 2.0/0.5.
  const double z = std::exp(5.0) + std::exp(4.0);
  const double expected = t.id == 1 ? 5.0 - std::log(z) : 4.0 - std::log(z);
  EXPECT_TRUE(t.id == 1 || t.id == 4);
  EXPECT_NEAR(t.logprob, expected, 1e-5);
}

TEST(TokenSampler, TopNTokensAreTheBestLogprobsIncludingTies) {
  const std::vector<float> l{1, 3, 2, 3, 0};
  auto top = top_logprobs(l, 1);
  ASSERT_EQ(top.size(), 2u);  // tie at the boundary
  EXPECT_EQ(top[0].first, 1);
  EXPECT_EQ(top[1].first, 3);
  auto top3 = top_logprobs(l, 3);
  ASSERT_EQ(top3.size(), 3u);
  EXPECT_EQ(top3[2].first, 2);
  EXPECT_NEAR(top3[2].second, 2 - log_sum_exp(l), 1e-6);
  TokenSampler sampler({}, 0, 2);
  auto row = l;
  EXPECT_EQ(sampler.next(row, {}, 0).top.size(), 2u);
}

TEST(TokenSampler, PenaltiesSeeThePromptAndGeneratedTokens) {
  SamplingParams p;
  p.repetition_penalty = 100.0f;
  TokenSampler sampler(p, 0, 0);
  auto row = kLogits;
  const std::vector<int32_t> history{1};  // the argmax, seen in the prompt
  EXPECT_EQ(sampler.next(row, history, 1).id, 4);
  SamplingParams f;
  f.frequency_penalty = 2.0f;
  TokenSampler penalized(f, 0, 0);
  auto row2 = kLogits;
  EXPECT_EQ(penalized.next(row2, history, 1).id, 1);  // prompt tokens do not count
  auto row3 = kLogits;
  EXPECT_EQ(penalized.next(row3, history, 0).id, 4);  // generated ones do
}

}  // namespace
}  // namespace tgi::engine
