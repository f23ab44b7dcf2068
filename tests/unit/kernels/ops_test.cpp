// Norms, activations, rope rotation and paged attention against naive double references.
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <immintrin.h>

#include "kernels/cpu/activation.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/vector_exp.h"

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

struct AttentionCase {
  int64_t sliding_window = 0;
  int64_t chunk = 0;
  float softcap = 0.0f;
  bool sinks = false;
  KvDtype dtype = KvDtype::kF32;
};

// K or V of every slot stored as `dtype`, and the values the kernel must see (widened back).
struct StoredKv {
  std::vector<std::byte> bytes;
  std::vector<float> scales;
  std::vector<float> widened;
};

StoredKv store_kv(const std::vector<float>& x, int64_t slots, int32_t heads, int32_t hd, KvDtype dtype) {
  StoredKv s;
  const auto element = static_cast<int64_t>(kv_element_bytes(dtype));
  s.bytes.resize(static_cast<size_t>(slots * heads * hd * element));
  s.scales.assign(static_cast<size_t>(slots * heads), 1.0f);
  s.widened.resize(x.size());
  for (int64_t slot = 0; slot < slots; ++slot) {
    store_kv_heads(dtype, &x[slot * heads * hd], heads, hd, &s.bytes[slot * heads * hd * element],
                   &s.scales[slot * heads]);
    for (int32_t h = 0; h < heads; ++h)
      load_kv_elements(dtype, &s.bytes[(slot * heads + h) * hd * element], s.scales[slot * heads + h], hd,
                       &s.widened[(slot * heads + h) * hd]);
  }
  return s;
}

TEST(KvStorage, RoundTripsWithinEachFormatsRounding) {
  std::mt19937 rng(12);
  const int32_t heads = 3, hd = 20;
  const auto x = random_vector(heads * hd, rng);
  for (const KvDtype dtype : {KvDtype::kF32, KvDtype::kBF16, KvDtype::kF16, KvDtype::kInt8}) {
    const StoredKv s = store_kv(x, 1, heads, hd, dtype);
    for (int32_t h = 0; h < heads; ++h) {
      float largest = 0;
      for (int i = 0; i < hd; ++i) largest = std::max(largest, std::fabs(x[h * hd + i]));
      for (int i = 0; i < hd; ++i) {
        const float v = x[h * hd + i], back = s.widened[h * hd + i];
        const double allowed = dtype == KvDtype::kF32    ? 0.0
                               : dtype == KvDtype::kBF16 ? std::fabs(v) / 256.0
                               : dtype == KvDtype::kF16  ? std::fabs(v) / 2048.0 + 1e-7
                                                         : largest / 127.0 / 2.0 * 1.0001;
        ASSERT_LE(std::fabs(back - v), allowed) << to_string(dtype) << " head " << h << " element " << i;
      }
    }
  }
  EXPECT_EQ(parse_kv_dtype("bf16"), KvDtype::kBF16);
  EXPECT_EQ(parse_kv_dtype("int8"), KvDtype::kInt8);
  EXPECT_EQ(parse_kv_dtype("fp8_e5m2"), std::nullopt);
}

class PagedAttentionTest : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(PagedAttentionTest, MatchesNaiveSoftmaxAttention) {
  const AttentionCase c = GetParam();
  std::mt19937 rng(3);
  const int32_t heads = 4, kv_heads = 2, hd = 12, block = 3, num_blocks = 16;
  // Two sequences: one decoding (context 9, 1 new row), one prefilling (context 2, 5 rows).
  const std::vector<int32_t> ctx = {9, 2}, qlen = {1, 5};
  const std::vector<std::vector<int32_t>> tables = {{7, 2, 11, 0}, {5, 14, 9}};
  const int64_t slots = int64_t{num_blocks} * block;
  const StoredKv stored_k =
      store_kv(random_vector(static_cast<size_t>(slots) * kv_heads * hd, rng), slots, kv_heads, hd, c.dtype);
  const StoredKv stored_v =
      store_kv(random_vector(static_cast<size_t>(slots) * kv_heads * hd, rng), slots, kv_heads, hd, c.dtype);
  const std::vector<float>& k = stored_k.widened;  // what the kernel sees
  const std::vector<float>& v = stored_v.widened;
  const int64_t rows = 6;
  const auto q = random_vector(static_cast<size_t>(rows) * heads * hd, rng);
  const auto sinks = random_vector(heads, rng);
  std::vector<AttentionSequence> seqs = {{0, 1, 9, tables[0].data()}, {1, 5, 2, tables[1].data()}};
  const std::vector<int32_t> row_seq = {0, 1, 1, 1, 1, 1};
  AttentionShape shape{heads, kv_heads, hd, hd, 0.3f, c.softcap, c.sliding_window, c.chunk,
                       c.sinks ? sinks.data() : nullptr};
  std::vector<float> out(static_cast<size_t>(rows) * heads * hd);
  ThreadPool pool(2);
  PagedKvLayer layer{stored_k.bytes.data(), stored_v.bytes.data(), block};
  layer.dtype = c.dtype;
  layer.k_scales = stored_k.scales.data();
  layer.v_scales = stored_v.scales.data();
  paged_attention(q.data(), heads * hd, seqs, row_seq.data(), rows, layer, shape, out.data(), heads * hd,
                  pool);

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

// Contexts spanning several key tiles (the kernel rescales its running sums between tiles), with
// scores large enough that the running maximum moves.
TEST(PagedAttention, LongContextsAcrossKeyTilesMatchNaiveSoftmax) {
  std::mt19937 rng(41);
  const int32_t heads = 2, kv_heads = 1, hd = 16, block = 8;
  const int32_t context = 150, rows = 3, positions = context + rows;
  const int32_t num_blocks = (positions + block - 1) / block + 2;
  std::vector<int32_t> table(static_cast<size_t>(num_blocks - 2));
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<int32_t>((i * 7 + 3) % num_blocks);
  std::sort(table.begin(), table.end());
  table.erase(std::unique(table.begin(), table.end()), table.end());
  ASSERT_GE(static_cast<int64_t>(table.size()) * block, positions);
  const int64_t slots = int64_t{num_blocks} * block;
  for (const KvDtype dtype : {KvDtype::kF32, KvDtype::kInt8}) {
    const StoredKv k =
        store_kv(random_vector(static_cast<size_t>(slots) * hd, rng, 3.0f), slots, kv_heads, hd, dtype);
    const StoredKv v =
        store_kv(random_vector(static_cast<size_t>(slots) * hd, rng), slots, kv_heads, hd, dtype);
    const auto q = random_vector(static_cast<size_t>(rows) * heads * hd, rng, 3.0f);
    const std::vector<AttentionSequence> seqs = {{0, rows, context, table.data()}};
    const std::vector<int32_t> row_seq(rows, 0);
    AttentionShape shape{heads, kv_heads, hd, hd, 0.25f};
    PagedKvLayer layer{k.bytes.data(), v.bytes.data(), block};
    layer.dtype = dtype;
    layer.k_scales = k.scales.data();
    layer.v_scales = v.scales.data();
    std::vector<float> out(static_cast<size_t>(rows) * heads * hd);
    ThreadPool pool(2);
    paged_attention(q.data(), heads * hd, seqs, row_seq.data(), rows, layer, shape, out.data(), heads * hd,
                    pool);
    for (int32_t r = 0; r < rows; ++r) {
      for (int32_t h = 0; h < heads; ++h) {
        std::vector<double> scores;
        std::vector<int64_t> at;
        for (int64_t j = 0; j <= context + r; ++j) {
          const int64_t slot = int64_t{table[j / block]} * block + j % block;
          double dot = 0;
          for (int d = 0; d < hd; ++d) dot += double{q[(r * heads + h) * hd + d]} * k.widened[slot * hd + d];
          scores.push_back(dot * 0.25);
          at.push_back(slot);
        }
        const double m = *std::max_element(scores.begin(), scores.end());
        double z = 0;
        for (double sc : scores) z += std::exp(sc - m);
        for (int d = 0; d < hd; ++d) {
          double expected = 0;
          for (size_t i = 0; i < scores.size(); ++i)
            expected += std::exp(scores[i] - m) / z * v.widened[at[i] * hd + d];
          ASSERT_NEAR(out[(r * heads + h) * hd + d], expected, 2e-5)
              << to_string(dtype) << " row " << r << " head " << h;
        }
      }
    }
  }
}

// Query heads sharing a KV head are attended together in groups sized by the batch and the
// thread count; a row's output must be bitwise the same however it was grouped.
TEST(PagedAttention, HeadGroupingNeverChangesAResult) {
  std::mt19937 rng(77);
  const int32_t heads = 16, kv_heads = 2, hd = 24, block = 4, context = 70, rows = 5;
  const int32_t num_blocks = (context + rows + block - 1) / block;
  std::vector<int32_t> table(static_cast<size_t>(num_blocks));
  for (int32_t i = 0; i < num_blocks; ++i) table[i] = num_blocks - 1 - i;
  const int64_t slots = int64_t{num_blocks} * block;
  const auto k = random_vector(static_cast<size_t>(slots) * kv_heads * hd, rng);
  const auto v = random_vector(static_cast<size_t>(slots) * kv_heads * hd, rng);
  const auto q = random_vector(static_cast<size_t>(rows) * heads * hd, rng, 2.0f);
  const PagedKvLayer layer{reinterpret_cast<const std::byte*>(k.data()),
                           reinterpret_cast<const std::byte*>(v.data()), block};
  const AttentionShape shape{heads, kv_heads, hd, hd, 0.2f};
  const int64_t width = int64_t{heads} * hd;
  // All rows at once on one thread (groups of 8 heads)...
  ThreadPool one(1), four(4);
  std::vector<float> together(static_cast<size_t>(rows * width));
  const std::vector<AttentionSequence> batch = {{0, rows, context, table.data()}};
  const std::vector<int32_t> row_seq(rows, 0);
  paged_attention(q.data(), width, batch, row_seq.data(), rows, layer, shape, together.data(), width, one);
  // ...and each row alone on four threads (groups shrink so every thread has work).
  for (int32_t r = 0; r < rows; ++r) {
    const std::vector<AttentionSequence> alone = {{0, 1, context + r, table.data()}};
    const int32_t zero = 0;
    std::vector<float> out(static_cast<size_t>(width));
    paged_attention(q.data() + r * width, width, alone, &zero, 1, layer, shape, out.data(), width, four);
    for (int64_t i = 0; i < width; ++i)
      ASSERT_EQ(out[i], together[r * width + i]) << "row " << r << " element " << i;
  }
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

INSTANTIATE_TEST_SUITE_P(Variants, PagedAttentionTest,
                         ::testing::Values(AttentionCase{}, AttentionCase{4, 0, 0.0f, false},
                                           AttentionCase{0, 4, 0.0f, false}, AttentionCase{0, 0, 0.5f, false},
                                           AttentionCase{3, 0, 0.0f, true},
                                           AttentionCase{0, 0, 0.0f, false, KvDtype::kBF16},
                                           AttentionCase{4, 0, 0.0f, false, KvDtype::kF16},
                                           AttentionCase{0, 0, 0.5f, true, KvDtype::kInt8},
                                           AttentionCase{0, 4, 0.0f, false, KvDtype::kInt8}));

}  // namespace
}  // namespace tgi::kernels
