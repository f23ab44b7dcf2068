// Norms, activations, rope rotation and paged attention against naive double references.
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/rope.h"

namespace tgi::kernels {
namespace {

std::vector<float> random_vector(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

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

struct AttentionCase {
  int64_t sliding_window = 0;
  int64_t chunk = 0;
  float softcap = 0.0f;
  bool sinks = false;
};

class PagedAttentionTest : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(PagedAttentionTest, MatchesNaiveSoftmaxAttention) {
  const AttentionCase c = GetParam();
  std::mt19937 rng(3);
  const int32_t heads = 4, kv_heads = 2, hd = 12, block = 3, num_blocks = 16;
  // Two sequences: one decoding (context 9, 1 new row), one prefilling (context 2, 5 rows).
  const std::vector<int32_t> ctx = {9, 2}, qlen = {1, 5};
  const std::vector<std::vector<int32_t>> tables = {{7, 2, 11, 0}, {5, 14, 9}};
  std::vector<float> k(static_cast<size_t>(num_blocks) * block * kv_heads * hd);
  std::vector<float> v(k.size());
  k = random_vector(k.size(), rng);
  v = random_vector(v.size(), rng);
  const int64_t rows = 6;
  const auto q = random_vector(static_cast<size_t>(rows) * heads * hd, rng);
  const auto sinks = random_vector(heads, rng);
  std::vector<AttentionSequence> seqs = {{0, 1, 9, tables[0].data()}, {1, 5, 2, tables[1].data()}};
  const std::vector<int32_t> row_seq = {0, 1, 1, 1, 1, 1};
  AttentionShape shape{heads, kv_heads, hd, hd, 0.3f, c.softcap, c.sliding_window, c.chunk,
                       c.sinks ? sinks.data() : nullptr};
  std::vector<float> out(static_cast<size_t>(rows) * heads * hd);
  ThreadPool pool(2);
  paged_attention(q.data(), heads * hd, seqs, row_seq.data(), rows, PagedKvLayer{k.data(), v.data(), block}, shape,
                  out.data(), heads * hd, pool);

  for (int64_t r = 0; r < rows; ++r) {
    const auto& s = seqs[row_seq[r]];
    const int64_t pos = s.context_len + (r - s.query_start);
    for (int32_t h = 0; h < heads; ++h) {
      const int32_t kvh = h / (heads / kv_heads);
      std::vector<double> scores;
      std::vector<int64_t> slots;
      for (int64_t j = 0; j <= pos; ++j) {
        if (c.sliding_window > 0 && pos - j >= c.sliding_window) continue;
        if (c.chunk > 0 && j / c.chunk != pos / c.chunk) continue;
        const int64_t slot = int64_t{s.block_table[j / block]} * block + j % block;
        double dot = 0;
        for (int d = 0; d < hd; ++d) dot += double{q[(r * heads + h) * hd + d]} * k[(slot * kv_heads + kvh) * hd + d];
        dot *= 0.3;
        if (c.softcap > 0) dot = c.softcap * std::tanh(dot / c.softcap);
        scores.push_back(dot);
        slots.push_back(slot);
      }
      double m = -1e300;
      for (double sc : scores) m = std::max(m, sc);
      if (c.sinks) m = std::max(m, double{sinks[h]});
      double z = 0;
      for (double sc : scores) z += std::exp(sc - m);
      if (c.sinks) z += std::exp(sinks[h] - m);
      for (int d = 0; d < hd; ++d) {
        double acc = 0;
        for (size_t i = 0; i < scores.size(); ++i) acc += std::exp(scores[i] - m) / z * v[(slots[i] * kv_heads + kvh) * hd + d];
        ASSERT_NEAR(out[(r * heads + h) * hd + d], acc, 1e-5) << "row " << r << " head " << h;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, PagedAttentionTest,
                         ::testing::Values(AttentionCase{}, AttentionCase{4, 0, 0.0f, false},
                                           AttentionCase{0, 4, 0.0f, false}, AttentionCase{0, 0, 0.5f, false},
                                           AttentionCase{3, 0, 0.0f, true}));

}  // namespace
}  // namespace tgi::kernels
