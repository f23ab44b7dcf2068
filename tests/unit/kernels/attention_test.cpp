// Paged attention (every kernel ISA) and the KV storage formats it reads, against naive double
// references; rows must come out bitwise the same however they are batched.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "isa_guard.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/kv_storage.h"
#include "kernels/cpu/thread_pool.h"
#include "random_vector.h"

namespace tgi::kernels {
namespace {

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

// The naive double reference for one query head of the row at position `pos`: softmax over the
// keys the shape lets it see (window, chunk; softcap on the scaled scores; the sink's mass in the
// denominator), times V. `k`/`v` hold every slot's heads as the kernel sees them (widened).
std::vector<double> naive_attention(const float* q_head, int32_t head, int64_t pos,
                                    const int32_t* block_table, int32_t block, const std::vector<float>& k,
                                    const std::vector<float>& v, const AttentionShape& shape) {
  const int32_t kv_heads = shape.num_kv_heads, hd = shape.head_dim, vd = shape.v_head_dim;
  const int32_t kv_head = head / (shape.num_heads / kv_heads);
  std::vector<double> scores;
  std::vector<int64_t> slots;
  for (int64_t j = 0; j <= pos; ++j) {
    if (shape.sliding_window > 0 && pos - j >= shape.sliding_window) continue;
    if (shape.chunk_size > 0 && j / shape.chunk_size != pos / shape.chunk_size) continue;
    const int64_t slot = int64_t{block_table[j / block]} * block + j % block;
    double dot = 0;
    for (int32_t d = 0; d < hd; ++d) dot += double{q_head[d]} * k[(slot * kv_heads + kv_head) * hd + d];
    dot *= shape.scale;
    if (shape.softcap > 0) dot = shape.softcap * std::tanh(dot / shape.softcap);
    scores.push_back(dot);
    slots.push_back(slot);
  }
  double m = *std::max_element(scores.begin(), scores.end());
  if (shape.sinks != nullptr) m = std::max(m, double{shape.sinks[head]});
  double z = shape.sinks != nullptr ? std::exp(shape.sinks[head] - m) : 0.0;
  for (double sc : scores) z += std::exp(sc - m);
  std::vector<double> out(static_cast<size_t>(vd), 0.0);
  for (size_t i = 0; i < scores.size(); ++i) {
    const double weight = std::exp(scores[i] - m) / z;
    for (int32_t d = 0; d < vd; ++d) out[d] += weight * v[(slots[i] * kv_heads + kv_head) * vd + d];
  }
  return out;
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
  for (const CpuIsa isa : available_isas()) {
    IsaGuard guard(isa);
    SCOPED_TRACE(to_string(isa));
    const AttentionCase c = GetParam();
    std::mt19937 rng(3);
    const int32_t heads = 4, kv_heads = 2, hd = 12, block = 3, num_blocks = 16;
    // Two sequences: one decoding (context 9, 1 new row), one prefilling (context 2, 5 rows).
    const std::vector<int32_t> ctx = {9, 2}, qlen = {1, 5};
    const std::vector<std::vector<int32_t>> tables = {{7, 2, 11, 0}, {5, 14, 9}};
    const int64_t slots = int64_t{num_blocks} * block;
    const StoredKv stored_k = store_kv(random_vector(static_cast<size_t>(slots) * kv_heads * hd, rng), slots,
                                       kv_heads, hd, c.dtype);
    const StoredKv stored_v = store_kv(random_vector(static_cast<size_t>(slots) * kv_heads * hd, rng), slots,
                                       kv_heads, hd, c.dtype);
    const std::vector<float>& k = stored_k.widened;  // what the kernel sees
    const std::vector<float>& v = stored_v.widened;
    const int64_t rows = 6;
    const auto q = random_vector(static_cast<size_t>(rows) * heads * hd, rng);
    const auto sinks = random_vector(heads, rng);
    std::vector<AttentionSequence> seqs = {{0, 1, 9, tables[0].data()}, {1, 5, 2, tables[1].data()}};
    const std::vector<int32_t> row_seq = {0, 1, 1, 1, 1, 1};
    AttentionShape shape{heads,
                         kv_heads,
                         hd,
                         hd,
                         0.3f,
                         c.softcap,
                         c.sliding_window,
                         c.chunk,
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
        const auto expected =
            naive_attention(&q[(r * heads + h) * hd], h, pos, s.block_table, block, k, v, shape);
        for (int d = 0; d < hd; ++d)
          ASSERT_NEAR(out[(r * heads + h) * hd + d], expected[d], 1e-5) << "row " << r << " head " << h;
      }
    }
  }
}

// Contexts spanning several key tiles (the kernel rescales its running sums between tiles), with
// scores large enough that the running maximum moves.
TEST(PagedAttention, LongContextsAcrossKeyTilesMatchNaiveSoftmax) {
  for (const CpuIsa isa : available_isas()) {
    IsaGuard guard(isa);
    SCOPED_TRACE(to_string(isa));
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
          const auto expected = naive_attention(&q[(r * heads + h) * hd], h, context + r, table.data(), block,
                                                k.widened, v.widened, shape);
          for (int d = 0; d < hd; ++d)
            ASSERT_NEAR(out[(r * heads + h) * hd + d], expected[d], 2e-5)
                << to_string(dtype) << " row " << r << " head " << h;
        }
      }
    }
  }
}

// Query heads sharing a KV head are attended together in groups sized by the batch and the
// thread count; a row's output must be bitwise the same however it was grouped.
TEST(PagedAttention, HeadGroupingNeverChangesAResult) {
  for (const CpuIsa isa : available_isas()) {
    IsaGuard guard(isa);
    SCOPED_TRACE(to_string(isa));
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
}

// Shapes that stress the row tiles: two sequences prefilling 45 and 3 rows across several key
// tiles, a decode row, head dims that are not a multiple of 16 (K 40, V 24), 12 query heads per KV
// head (items of 8 + 4), every storage dtype, windows, softcap and sinks. Each row must match the
// naive softmax and be bitwise what the same row gives alone on one thread.
TEST(PagedAttention, RowTilesMatchNaiveAndEachRowAlone) {
  struct Variant {
    KvDtype dtype;
    int64_t window;
    float softcap;
    bool sinks;
  };
  const Variant variants[] = {{KvDtype::kF32, 0, 0.0f, false},
                              {KvDtype::kBF16, 0, 0.0f, true},
                              {KvDtype::kF16, 37, 0.0f, false},
                              {KvDtype::kInt8, 0, 2.0f, false},
                              {KvDtype::kF32, 70, 1.5f, true}};
  const int32_t heads = 24, kv_heads = 2, hd = 40, vd = 24, block = 16;
  const std::vector<int32_t> ctx = {30, 100, 7}, qlen = {45, 1, 3};
  std::mt19937 rng(5);
  for (const Variant& variant : variants) {
    // Each sequence gets its own blocks, handed out in a scrambled order.
    std::vector<std::vector<int32_t>> tables;
    int32_t next_block = 0;
    for (size_t i = 0; i < ctx.size(); ++i) {
      const int32_t n = (ctx[i] + qlen[i] + block - 1) / block;
      std::vector<int32_t> t(static_cast<size_t>(n));
      for (int32_t b = 0; b < n; ++b) t[b] = next_block + (b * 5) % n;
      std::sort(t.begin(), t.end());
      std::shuffle(t.begin(), t.end(), rng);
      next_block += n;
      tables.push_back(t);
    }
    const int64_t slots = int64_t{next_block} * block;
    const StoredKv k = store_kv(random_vector(static_cast<size_t>(slots) * kv_heads * hd, rng, 2.0f), slots,
                                kv_heads, hd, variant.dtype);
    const StoredKv v = store_kv(random_vector(static_cast<size_t>(slots) * kv_heads * vd, rng), slots,
                                kv_heads, vd, variant.dtype);
    std::vector<AttentionSequence> seqs;
    std::vector<int32_t> row_seq;
    int32_t rows = 0;
    for (size_t i = 0; i < ctx.size(); ++i) {
      seqs.push_back({rows, qlen[i], ctx[i], tables[i].data()});
      for (int32_t r = 0; r < qlen[i]; ++r) row_seq.push_back(static_cast<int32_t>(i));
      rows += qlen[i];
    }
    const int64_t q_width = int64_t{heads} * hd, out_width = int64_t{heads} * vd;
    const auto q = random_vector(static_cast<size_t>(rows * q_width), rng, 2.0f);
    const auto sinks = random_vector(heads, rng);
    const AttentionShape shape{heads,
                               kv_heads,
                               hd,
                               vd,
                               0.2f,
                               variant.softcap,
                               variant.window,
                               0,
                               variant.sinks ? sinks.data() : nullptr};
    PagedKvLayer layer{k.bytes.data(), v.bytes.data(), block};
    layer.dtype = variant.dtype;
    layer.k_scales = k.scales.data();
    layer.v_scales = v.scales.data();
    for (const CpuIsa isa : available_isas()) {
      IsaGuard guard(isa);
      SCOPED_TRACE(std::string(to_string(isa)) + " " + to_string(variant.dtype));
      ThreadPool four(4), one(1);
      std::vector<float> together(static_cast<size_t>(rows * out_width));
      paged_attention(q.data(), q_width, seqs, row_seq.data(), rows, layer, shape, together.data(), out_width,
                      four);
      for (int32_t row = 0; row < rows; ++row) {
        const AttentionSequence& s = seqs[row_seq[row]];
        const int32_t pos = s.context_len + (row - s.query_start);
        const std::vector<AttentionSequence> alone = {{0, 1, pos, s.block_table}};
        const int32_t zero = 0;
        std::vector<float> single(static_cast<size_t>(out_width));
        paged_attention(q.data() + row * q_width, q_width, alone, &zero, 1, layer, shape, single.data(),
                        out_width, one);
        for (int64_t i = 0; i < out_width; ++i)
          ASSERT_EQ(single[i], together[row * out_width + i]) << "row " << row << " element " << i;
        for (int32_t h = 0; h < heads; ++h) {
          const auto expected = naive_attention(&q[row * q_width + h * hd], h, pos, s.block_table, block,
                                                k.widened, v.widened, shape);
          for (int d = 0; d < vd; ++d)
            ASSERT_NEAR(together[row * out_width + h * vd + d], expected[d], 2e-5)
                << "row " << row << " head " << h;
        }
      }
    }
  }
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
