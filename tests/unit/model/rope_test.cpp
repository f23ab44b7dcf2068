// Rope frequencies of every variant against values computed here from the published formulas:
// RoFormer (default), Chen et al. 2023 (linear position interpolation), the "dynamic NTK" rule,
// Meta's llama3 scaling, YaRN (Peng et al. 2023) and LongRoPE / Phi-3 "su" scaling.
#include "model/rope.h"

#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

namespace tgi::model {
namespace {

double theta_pow(double theta, int i, int dim) { return std::pow(theta, -2.0 * i / dim); }

TEST(Rope, DefaultIsThetaToTheMinusTwoIOverD) {
  RopeParameters p;
  p.theta = 10000.0;
  const auto f = compute_rope_frequencies(p, 64, 2048, 10);
  ASSERT_EQ(f.inv_freq.size(), 32u);
  EXPECT_DOUBLE_EQ(f.inv_freq[0], 1.0);
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(f.inv_freq[i], theta_pow(10000.0, i, 64), 1e-15);
  EXPECT_EQ(f.attention_factor, 1.0);
}

TEST(Rope, LinearDividesEveryFrequencyByTheFactor) {
  RopeParameters p;
  p.type = RopeType::kLinear;
  p.factor = 4.0;
  const auto f = compute_rope_frequencies(p, 32, 2048, 10);
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(f.inv_freq[i], theta_pow(10000.0, i, 32) / 4.0, 1e-15);
}

TEST(Rope, DynamicNtkGrowsTheBaseOnlyBeyondTheTrainedLength) {
  RopeParameters p;
  p.type = RopeType::kDynamic;
  p.factor = 2.0;
  const int dim = 16;
  const auto within = compute_rope_frequencies(p, dim, 1024, 1000);
  for (int i = 0; i < dim / 2; ++i) EXPECT_NEAR(within.inv_freq[i], theta_pow(10000.0, i, dim), 1e-15);
  const auto beyond = compute_rope_frequencies(p, dim, 1024, 4096);
  const double base = 10000.0 * std::pow(2.0 * 4096 / 1024 - 1.0, dim / (dim - 2.0));
  for (int i = 0; i < dim / 2; ++i) EXPECT_NEAR(beyond.inv_freq[i], theta_pow(base, i, dim), 1e-15);
}

TEST(Rope, Llama3KeepsHighFrequenciesScalesLowOnesAndBlendsBetween) {
  RopeParameters p;
  p.type = RopeType::kLlama3;
  p.theta = 500000.0;
  p.factor = 8.0;
  p.low_freq_factor = 1.0;
  p.high_freq_factor = 4.0;
  p.original_max_position_embeddings = 8192;
  const int dim = 128;
  const auto f = compute_rope_frequencies(p, dim, 131072, 10);
  int kept = 0, scaled = 0, blended = 0;
  for (int i = 0; i < dim / 2; ++i) {
    const double inv = theta_pow(500000.0, i, dim);
    const double wavelen = 2 * std::numbers::pi / inv;
    double expected;
    if (wavelen < 8192.0 / 4.0) {
      expected = inv, ++kept;
    } else if (wavelen > 8192.0 / 1.0) {
      expected = inv / 8.0, ++scaled;
    } else {
      const double smooth = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
      expected = (1 - smooth) * inv / 8.0 + smooth * inv, ++blended;
    }
    EXPECT_NEAR(f.inv_freq[i], expected, 1e-15 + 1e-12 * expected) << i;
  }
  EXPECT_GT(kept, 0);
  EXPECT_GT(scaled, 0);
  EXPECT_GT(blended, 0);
}

TEST(Rope, YarnRampsBetweenInterpolationAndExtrapolation) {
  RopeParameters p;
  p.type = RopeType::kYarn;
  p.factor = 4.0;
  p.original_max_position_embeddings = 2048;
  const int dim = 64;
  const auto f = compute_rope_frequencies(p, dim, 8192, 10);
  EXPECT_NEAR(f.attention_factor, 0.1 * std::log(4.0) + 1.0, 1e-12);
  // Correction range from the paper: dims whose wavelength completes beta_fast (resp. beta_slow)
  // rotations over the original context.
  auto correction_dim = [&](double rotations) {
    return dim * std::log(2048 / (rotations * 2 * std::numbers::pi)) / (2 * std::log(10000.0));
  };
  const double low = std::max(0.0, std::floor(correction_dim(32.0)));
  const double high = std::min(dim - 1.0, std::ceil(correction_dim(1.0)));
  for (int i = 0; i < dim / 2; ++i) {
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);  // 0: extrapolate, 1: interpolate
    const double inv = theta_pow(10000.0, i, dim);
    EXPECT_NEAR(f.inv_freq[i], inv * (1 - ramp) + inv / 4.0 * ramp, 1e-15) << i;
  }
  EXPECT_DOUBLE_EQ(f.inv_freq[0], 1.0);  // highest frequency untouched
  EXPECT_NEAR(f.inv_freq[dim / 2 - 1], theta_pow(10000.0, dim / 2 - 1, dim) / 4.0, 1e-18);

  // DeepSeek-style mscale: the attention factor is the ratio of the two mscales.
  p.mscale = 1.0;
  p.mscale_all_dim = 0.707;
  const auto g = compute_rope_frequencies(p, dim, 8192, 10);
  EXPECT_NEAR(g.attention_factor, (0.1 * 1.0 * std::log(4.0) + 1) / (0.1 * 0.707 * std::log(4.0) + 1), 1e-12);
}

TEST(Rope, LongropeUsesShortOrLongFactorsAndScalesAttention) {
  RopeParameters p;
  p.type = RopeType::kLongrope;
  p.original_max_position_embeddings = 4096;
  const int dim = 8;
  p.short_factor = {1.0, 1.5, 2.0, 3.0};
  p.long_factor = {2.0, 4.0, 8.0, 16.0};
  const auto short_f = compute_rope_frequencies(p, dim, 131072, 100);
  const auto long_f = compute_rope_frequencies(p, dim, 131072, 5000);
  const double expected_af = std::sqrt(1 + std::log(131072.0 / 4096.0) / std::log(4096.0));
  EXPECT_NEAR(short_f.attention_factor, expected_af, 1e-12);
  for (int i = 0; i < dim / 2; ++i) {
    EXPECT_NEAR(short_f.inv_freq[i], theta_pow(10000.0, i, dim) / p.short_factor[i], 1e-15);
    EXPECT_NEAR(long_f.inv_freq[i], theta_pow(10000.0, i, dim) / p.long_factor[i], 1e-15);
  }
}

TEST(Rope, RotaryEmbeddingGivesScaledCosSinOfPositionTimesFrequency) {
  RopeParameters p;
  p.type = RopeType::kYarn;
  p.factor = 4.0;
  p.original_max_position_embeddings = 2048;
  const RotaryEmbedding rope(p, 16, 8192);
  const auto f = compute_rope_frequencies(p, 16, 8192, 0);
  float cos[8], sin[8];
  rope.cos_sin(37, 38, cos, sin);
  for (int i = 0; i < 8; ++i) {
    EXPECT_NEAR(cos[i], std::cos(37 * f.inv_freq[i]) * f.attention_factor, 1e-6);
    EXPECT_NEAR(sin[i], std::sin(37 * f.inv_freq[i]) * f.attention_factor, 1e-6);
  }
}

}  // namespace
}  // namespace tgi::model
