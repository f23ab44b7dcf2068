// Norms, activations, rope rotation and the vector exp against naive double references.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <immintrin.h>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/vector_exp.h"
#include "random_vector.h"

namespace tgi::kernels {
namespace {

TEST(Norm, RmsNormVariantsMatchFormula) {
  std::mt19937 rng(1);
  const auto x = random_vector(37, rng, 3.0f), w = random_vector(37, rng);
  double ms = 0;
  for (float v : x) ms += double{v} * v;
  const double inv = 1.0 / std::sqrt(ms / 37 + 1e-6);
  std::vector<float> out(37), out1p(37), plain(37);
  rms_norm(x.data(), w.data(), 37, 1e-6f, false, out.data());
  rms_norm(x.data(), w.data(), 37, 1e-6f, true, out1p.data());
  rms_norm(x.data(), nullptr, 37, 1e-6f, false, plain.data());
  for (int i = 0; i < 37; ++i) {
    EXPECT_NEAR(out[i], x[i] * inv * w[i], 1e-5);
    EXPECT_NEAR(out1p[i], x[i] * inv * (1.0 + w[i]), 1e-5);
    EXPECT_NEAR(plain[i], x[i] * inv, 1e-5);
  }
}

TEST(Norm, LayerNormMatchesFormula) {
  std::mt19937 rng(2);
  const auto x = random_vector(19, rng, 2.0f), w = random_vector(19, rng), b = random_vector(19, rng);
  double mean = 0, var = 0;
  for (float v : x) mean += v;
  mean /= 19;
  for (float v : x) var += (v - mean) * (v - mean);
  var /= 19;
  std::vector<float> out(19), nobias(19);
  layer_norm(x.data(), w.data(), b.data(), 19, 1e-5f, out.data());
  layer_norm(x.data(), w.data(), nullptr, 19, 1e-5f, nobias.data());
  for (int i = 0; i < 19; ++i) {
    const double n = (x[i] - mean) / std::sqrt(var + 1e-5);
    EXPECT_NEAR(out[i], n * w[i] + b[i], 1e-5);
    EXPECT_NEAR(nobias[i], n * w[i], 1e-5);
  }
}

TEST(Activation, KnownValues) {
  EXPECT_NEAR(activate(ActivationKind::kSilu, 1.0f), 1.0 / (1.0 + std::exp(-1.0)), 1e-6);
  EXPECT_NEAR(activate(ActivationKind::kGelu, 1.0f), 0.8413447460685429, 1e-6);
  EXPECT_NEAR(activate(ActivationKind::kGeluTanh, 1.0f), 0.8411919906082768, 1e-6);
  EXPECT_EQ(activate(ActivationKind::kRelu, -2.0f), 0.0f);
  float g[2] = {2.0f, -1.0f}, u[2] = {3.0f, 0.5f}, out[2];
  gated_activation(ActivationKind::kSilu, g, u, out, 2);
  EXPECT_NEAR(out[0], 2.0 / (1.0 + std::exp(-2.0)) * 3.0, 1e-5);
  float c[1] = {100.0f};
  softcap_inplace(c, 1, 30.0f);
  EXPECT_NEAR(c[0], 30.0 * std::tanh(100.0 / 30.0), 1e-4);
}

// The vectorized SwiGLU against its definition in double, over a wide range (including inputs
// where e^-g overflows) and a length that leaves a tail.
TEST(Activation, GatedSiluMatchesTheDefinitionEverywhere) {
  std::vector<float> gate, up;
  for (float g = -120.0f; g <= 120.0f; g += 0.0917f) {
    gate.push_back(g);
    up.push_back(0.5f + std::sin(g));
  }
  ASSERT_NE(gate.size() % 8, 0u);
  std::vector<float> out(gate.size());
  gated_activation(ActivationKind::kSilu, gate.data(), up.data(), out.data(),
                   static_cast<int64_t>(gate.size()));
  for (size_t i = 0; i < gate.size(); ++i) {
    const double g = gate[i], expected = g / (1.0 + std::exp(-g)) * up[i];
    ASSERT_NEAR(out[i], expected, 1e-6 * std::abs(expected) + 1e-30) << "gate " << g;
  }
}

TEST(Rope, RotatesHalvesOrInterleavedPairsAndLeavesThePassThroughDims) {
  // One head of 6 dims, rotary_dim 4: pairs (0,2),(1,3) in halves mode, (0,1),(2,3) interleaved.
  const float cos[2] = {std::cos(0.3f), std::cos(0.7f)}, sin[2] = {std::sin(0.3f), std::sin(0.7f)};
  float x[6] = {1, 2, 3, 4, 5, 6};
  apply_rope(x, 1, 6, 4, cos, sin, false);
  EXPECT_NEAR(x[0], 1 * cos[0] - 3 * sin[0], 1e-6);
  EXPECT_NEAR(x[2], 3 * cos[0] + 1 * sin[0], 1e-6);
  EXPECT_NEAR(x[1], 2 * cos[1] - 4 * sin[1], 1e-6);
  EXPECT_NEAR(x[3], 4 * cos[1] + 2 * sin[1], 1e-6);
  EXPECT_EQ(x[4], 5);
  EXPECT_EQ(x[5], 6);
  float y[4] = {1, 2, 3, 4};
  apply_rope(y, 1, 4, 4, cos, sin, true);
  EXPECT_NEAR(y[0], 1 * cos[0] - 2 * sin[0], 1e-6);
  EXPECT_NEAR(y[1], 2 * cos[0] + 1 * sin[0], 1e-6);
  EXPECT_NEAR(y[2], 3 * cos[1] - 4 * sin[1], 1e-6);
}

TEST(VectorExp, MatchesLibmWithinTwoUlpAndFlushesTheFarLeftToZero) {
  for (float x = -87.0f; x <= 88.0f; x += 0.01373f) {
    alignas(32) float in[8], out[8];
    for (int i = 0; i < 8; ++i) in[i] = x + i * 0.001f;
    _mm256_store_ps(out, exp8(_mm256_load_ps(in)));
    for (int i = 0; i < 8; ++i) {
      const float expected = std::exp(in[i]);
      ASSERT_LE(std::fabs(out[i] - expected), 2.0f * (std::nextafter(expected, INFINITY) - expected))
          << in[i];
    }
  }
  alignas(32) float out[8];
  _mm256_store_ps(out, exp8(_mm256_set1_ps(-1000.0f)));
  EXPECT_EQ(out[0], 0.0f);
  _mm256_store_ps(out, exp8(_mm256_set1_ps(0.0f)));
  EXPECT_EQ(out[0], 1.0f);
}

}  // namespace
}  // namespace tgi::kernels
