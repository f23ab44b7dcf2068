#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <immintrin.h>

#include "kernels/cpu/attention_tile_problem.h"
#include "kernels/cpu/gemm/cpu_isa.h"
#include "kernels/cpu/vector_exp.h"

namespace tgi::kernels {
namespace {

// Elements between consecutive tokens of the cache (PagedKvLayer: 0 means a token's heads side by side).
int64_t k_token_stride_of(const PagedKvLayer& kv, const AttentionShape& s) {
  return kv.k_token_stride > 0 ? kv.k_token_stride : int64_t{s.num_kv_heads} * s.head_dim;
}
int64_t v_token_stride_of(const PagedKvLayer& kv, const AttentionShape& s) {
  return kv.v_token_stride > 0 ? kv.v_token_stride : int64_t{s.num_kv_heads} * s.v_head_dim;
}

// Keys scored per softmax update (stack buffer of this many floats).
constexpr int kAttentionKeyTile = 64;

// Stored K/V elements widened to floats, 8 at a time (AVX2) with a scalar tail.
template <KvDtype D>
inline __m256 load8(const std::byte* p) {
  if constexpr (D == KvDtype::kF32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  } else if constexpr (D == KvDtype::kBF16) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  } else if constexpr (D == KvDtype::kF16) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  } else {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
}

template <KvDtype D>
inline float load1(const std::byte* p, int64_t i) {
  float f;
  load_kv_elements(D, p + i * static_cast<int64_t>(kv_element_bytes(D)), 1.0f, 1, &f);
  return f;
}

// q · k_t for 8 stored keys at once (int8: before their scales): each q segment is loaded once
// for the 8 keys, and the 8 sums are reduced together. Per key the arithmetic is fixed (one FMA
// chain over the 8-wide segments, the same reduction tree, then the scalar tail), whichever
// keys share its group.
template <KvDtype D>
__m256 dot8(const float* q, const std::byte* const keys[8], int64_t n) {
  constexpr auto kBytes = static_cast<int64_t>(kv_element_bytes(D));
  __m256 a[8];
  for (int t = 0; t < 8; ++t) a[t] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 qs = _mm256_loadu_ps(q + i);
    for (int t = 0; t < 8; ++t) a[t] = _mm256_fmadd_ps(qs, load8<D>(keys[t] + i * kBytes), a[t]);
  }
  const __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
  const __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  __m256 sums = _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
  if (i < n) {
    alignas(32) float tail[8];
    for (int t = 0; t < 8; ++t) {
      float extra = 0.0f;
      for (int64_t r = i; r < n; ++r) extra += q[r] * load1<D>(keys[t], r);
      tail[t] = extra;
    }
    sums = _mm256_add_ps(sums, _mm256_load_ps(tail));
  }
  return sums;
}

// acc[dim0 .. dim0 + 8S) += Σ_t weights[t] · v_t[same dims]: the S accumulators stay in
// registers across the tile's keys (summed key by key, in order).
template <KvDtype D, int S>
inline void accumulate_segments(const float* weights, const std::byte* const* values, int n, int64_t dim0,
                                float* acc) {
  constexpr auto kBytes = static_cast<int64_t>(kv_element_bytes(D));
  __m256 a[S];
  for (int s = 0; s < S; ++s) a[s] = _mm256_loadu_ps(acc + dim0 + 8 * s);
  for (int t = 0; t < n; ++t) {
    const __m256 w = _mm256_set1_ps(weights[t]);
    const std::byte* v = values[t] + dim0 * kBytes;
    for (int s = 0; s < S; ++s) a[s] = _mm256_fmadd_ps(w, load8<D>(v + 8 * s * kBytes), a[s]);
  }
  for (int s = 0; s < S; ++s) _mm256_storeu_ps(acc + dim0 + 8 * s, a[s]);
}

// acc += Σ_t weights[t] · v_t over a tile of n keys, 64 dims at a time.
template <KvDtype D>
void accumulate_tile(const float* weights, const std::byte* const* values, int n, int64_t dims, float* acc) {
  int64_t d = 0;
  for (; d + 64 <= dims; d += 64) accumulate_segments<D, 8>(weights, values, n, d, acc);
  switch ((dims - d) / 8) {
    case 7:
      accumulate_segments<D, 7>(weights, values, n, d, acc);
      break;
    case 6:
      accumulate_segments<D, 6>(weights, values, n, d, acc);
      break;
    case 5:
      accumulate_segments<D, 5>(weights, values, n, d, acc);
      break;
    case 4:
      accumulate_segments<D, 4>(weights, values, n, d, acc);
      break;
    case 3:
      accumulate_segments<D, 3>(weights, values, n, d, acc);
      break;
    case 2:
      accumulate_segments<D, 2>(weights, values, n, d, acc);
      break;
    case 1:
      accumulate_segments<D, 1>(weights, values, n, d, acc);
      break;
    default:
      break;
  }
  d += (dims - d) / 8 * 8;
  for (int t = 0; t < n; ++t)
    for (int64_t r = d; r < dims; ++r) acc[r] += weights[t] * load1<D>(values[t], r);
}

// Query heads attended together: they share one KV head, so each tile's keys and values are
// read from memory once for all of them and then come from L1.
constexpr int kMaxGroupHeads = 8;

// Heads [head_begin, head_begin + count) of one query row, all reading the same KV head. Per head
// the arithmetic is fixed (tiles counted from the row's first visible key), whichever heads share
// the call, so grouping never changes a result.
template <KvDtype D>
void attend_heads(const float* q_row, const AttentionSequence& seq, int64_t row_in_seq, int32_t head_begin,
                  int count, const PagedKvLayer& kv, const AttentionShape& s, float* out_row) {
  constexpr auto kBytes = static_cast<int64_t>(kv_element_bytes(D));
  const int64_t pos = seq.context_len + row_in_seq;
  int64_t first = 0;
  if (s.sliding_window > 0) first = std::max<int64_t>(0, pos - s.sliding_window + 1);
  if (s.chunk_size > 0) first = std::max(first, pos / s.chunk_size * s.chunk_size);
  const int32_t kv_head = head_begin / (s.num_heads / s.num_kv_heads);
  const int64_t k_token_stride = k_token_stride_of(kv, s), v_token_stride = v_token_stride_of(kv, s);

  float acc[kMaxGroupHeads][kMaxAttentionHeadDim];
  float running_max[kMaxGroupHeads], denom[kMaxGroupHeads];
  for (int h = 0; h < count; ++h) {
    std::fill(acc[h], acc[h] + s.v_head_dim, 0.0f);
    running_max[h] = -std::numeric_limits<float>::infinity();
    denom[h] = 0.0f;
  }
  // Keys in tiles counted from `first`: scores of a tile, one max update, one vector exp pass,
  // then the values. The tiles depend only on this row's own positions, so a row's result is
  // the same whether it is computed in a prefill or a decode step, alone or in a batch.
  float p[kAttentionKeyTile];
  int64_t slots[kAttentionKeyTile];
  const std::byte* keys[kAttentionKeyTile + 8];
  const std::byte* values[kAttentionKeyTile];
  for (int64_t j0 = first; j0 <= pos; j0 += kAttentionKeyTile) {
    const int n = static_cast<int>(std::min<int64_t>(kAttentionKeyTile, pos - j0 + 1));
    int64_t block = j0 / kv.block_size, offset = j0 % kv.block_size;
    for (int t = 0; t < n; ++t) {
      slots[t] = int64_t{seq.block_table[block]} * kv.block_size + offset;
      if (++offset == kv.block_size) offset = 0, ++block;
      keys[t] = kv.k + (slots[t] * k_token_stride + int64_t{kv_head} * s.head_dim) * kBytes;
      values[t] = kv.v + (slots[t] * v_token_stride + int64_t{kv_head} * s.v_head_dim) * kBytes;
    }
    for (int t = n; t < n + 8; ++t) keys[t] = keys[n - 1];  // a short last group repeats its final key
    for (int h = 0; h < count; ++h) {
      const float* q = q_row + int64_t{h} * s.head_dim;
      for (int t0 = 0; t0 < n; t0 += 8) {
        alignas(32) float scores[8];
        _mm256_store_ps(scores, dot8<D>(q, keys + t0, s.head_dim));
        for (int t = 0; t < 8 && t0 + t < n; ++t) p[t0 + t] = scores[t];
      }
      float tile_max = -std::numeric_limits<float>::infinity();
      for (int t = 0; t < n; ++t) {
        float score = p[t];
        if constexpr (D == KvDtype::kInt8) score *= kv.k_scales[slots[t] * s.num_kv_heads + kv_head];
        score *= s.scale;
        if (s.softcap > 0.0f) score = s.softcap * std::tanh(score / s.softcap);
        p[t] = score;
        tile_max = std::max(tile_max, score);
      }
      if (tile_max > running_max[h]) {
        const float correction = std::exp(running_max[h] - tile_max);  // 0 on the first tile
        denom[h] *= correction;
        for (int32_t d = 0; d < s.v_head_dim; ++d) acc[h][d] *= correction;
        running_max[h] = tile_max;
      }
      const __m256 shift = _mm256_set1_ps(running_max[h]);
      int i = 0;
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(p + i, exp8(_mm256_sub_ps(_mm256_loadu_ps(p + i), shift)));
      if (i < n) {  // the tail through the same vector code, so every key gets the same exp
        float tail[8] = {};
        for (int t = i; t < n; ++t) tail[t - i] = p[t] - running_max[h];
        _mm256_storeu_ps(tail, exp8(_mm256_loadu_ps(tail)));
        for (int t = i; t < n; ++t) p[t] = tail[t - i];
      }
      // Weights of the values (int8: times each value's scale).
      for (int t = 0; t < n; ++t) {
        denom[h] += p[t];
        if constexpr (D == KvDtype::kInt8) p[t] *= kv.v_scales[slots[t] * s.num_kv_heads + kv_head];
      }
      accumulate_tile<D>(p, values, n, s.v_head_dim, acc[h]);
    }
  }
  for (int h = 0; h < count; ++h) {
    const int32_t head = head_begin + h;
    if (s.sinks != nullptr) {
      // The sink takes probability mass but contributes no value.
      const float sink = s.sinks[head];
      const float m = std::max(running_max[h], sink);
      const float correction = std::exp(running_max[h] - m);
      denom[h] = denom[h] * correction + std::exp(sink - m);
      for (int32_t d = 0; d < s.v_head_dim; ++d) acc[h][d] *= correction;
    }
    const float inv = 1.0f / denom[h];
    float* out = out_row + int64_t{head} * s.v_head_dim;
    for (int32_t d = 0; d < s.v_head_dim; ++d) out[d] = acc[h][d] * inv;
  }
}

// Work items: (row, KV head, sub-group of its query heads). Sub-groups shrink until there are
// enough items for every thread; results do not depend on the grouping (see attend_heads).
struct HeadGrouping {
  int heads_per_kv = 1;
  int group = 1;  // query heads per item
  int groups_per_kv = 1;
};

HeadGrouping plan_head_groups(int64_t num_rows, const AttentionShape& s, int threads) {
  HeadGrouping g;
  g.heads_per_kv = s.num_heads / s.num_kv_heads;
  g.group = std::min(g.heads_per_kv, kMaxGroupHeads);
  while (g.group > 1 && num_rows * s.num_kv_heads * ((g.heads_per_kv + g.group - 1) / g.group) < 2 * threads)
    g.group = (g.group + 1) / 2;
  g.groups_per_kv = (g.heads_per_kv + g.group - 1) / g.group;
  return g;
}

template <KvDtype D>
void attend_range(const float* q, int64_t q_stride, std::span<const AttentionSequence> sequences,
                  const int32_t* row_sequence, const PagedKvLayer& kv, const AttentionShape& shape,
                  float* out, int64_t out_stride, const HeadGrouping& g, int64_t begin, int64_t end) {
  const int64_t items_per_row = int64_t{shape.num_kv_heads} * g.groups_per_kv;
  for (int64_t item = begin; item < end; ++item) {
    const int64_t row = item / items_per_row;
    const int64_t within = item % items_per_row;
    const auto kv_head = static_cast<int32_t>(within / g.groups_per_kv);
    const int first_in_kv = static_cast<int>(within % g.groups_per_kv) * g.group;
    const int count = std::min(g.group, g.heads_per_kv - first_in_kv);
    const int32_t head_begin = kv_head * g.heads_per_kv + first_in_kv;
    const AttentionSequence& seq = sequences[row_sequence[row]];
    attend_heads<D>(q + row * q_stride + int64_t{head_begin} * shape.head_dim, seq, row - seq.query_start,
                    head_begin, count, kv, shape, out + row * out_stride);
  }
}

// AVX-512: query rows in tiles (attention_avx512.cpp). Tiles as tall and items as wide as the
// accumulators allow, shrunk until every thread has work.
void paged_attention_avx512(const float* q, int64_t q_stride, std::span<const AttentionSequence> sequences,
                            const PagedKvLayer& kv, const AttentionShape& shape, float* out,
                            int64_t out_stride, ThreadPool& pool) {
  namespace at = attention_tiles;
  const int32_t heads_per_kv = shape.num_heads / shape.num_kv_heads;
  const int64_t padded_v = (int64_t{shape.v_head_dim} + 63) / 64 * 64;
  int32_t heads = std::min(heads_per_kv, at::kMaxItemHeads);
  auto rows =
      static_cast<int32_t>(std::clamp<int64_t>(at::kAccFloats / (heads * padded_v), 1, at::kMaxTileRows));
  const auto count_items = [&](int32_t tile_rows, int32_t item_heads) {
    int64_t tiles = 0;
    for (const AttentionSequence& seq : sequences) tiles += (seq.query_len + tile_rows - 1) / tile_rows;
    return tiles * shape.num_kv_heads * ((heads_per_kv + item_heads - 1) / item_heads);
  };
  while (count_items(rows, heads) < 2 * pool.num_threads() && (rows > 1 || heads > 1)) {
    if (rows > 1) {
      rows = (rows + 1) / 2;
    } else {
      heads = (heads + 1) / 2;
    }
  }
  thread_local std::vector<at::RowTile> tiles;  // the caller's: no allocation per step once grown
  tiles.clear();
  for (const AttentionSequence& seq : sequences)
    for (int32_t r0 = 0; r0 < seq.query_len; r0 += rows)
      tiles.push_back({seq.block_table, seq.query_start + r0, std::min(rows, seq.query_len - r0),
                       int64_t{seq.context_len} + r0});
  at::AttentionTileProblem p;
  p.q = q;
  p.q_stride = q_stride;
  p.out = out;
  p.out_stride = out_stride;
  p.k = kv.k;
  p.v = kv.v;
  p.block_size = kv.block_size;
  p.k_token_stride = k_token_stride_of(kv, shape);
  p.v_token_stride = v_token_stride_of(kv, shape);
  p.element = static_cast<at::KvElement>(kv.dtype);
  p.k_scales = kv.k_scales;
  p.v_scales = kv.v_scales;
  p.num_heads = shape.num_heads;
  p.num_kv_heads = shape.num_kv_heads;
  p.head_dim = shape.head_dim;
  p.v_head_dim = shape.v_head_dim;
  p.scale = shape.scale;
  p.softcap = shape.softcap;
  p.sliding_window = shape.sliding_window;
  p.chunk_size = shape.chunk_size;
  p.sinks = shape.sinks;
  p.tiles = tiles.data();
  p.num_tiles = static_cast<int64_t>(tiles.size());
  p.heads_per_item = heads;
  p.items_per_kv_head = (heads_per_kv + heads - 1) / heads;
  const int64_t items = p.num_tiles * shape.num_kv_heads * p.items_per_kv_head;
  // Later rows see more keys: the costly items (last tiles) go out first.
  pool.parallel_for_dynamic(
      items, 1, [&](int64_t begin, int64_t end) { at::attend_items_avx512(p, items - end, items - begin); });
}

static_assert(static_cast<int>(attention_tiles::KvElement::kInt8) == static_cast<int>(KvDtype::kInt8) &&
              static_cast<int>(attention_tiles::KvElement::kBF16) == static_cast<int>(KvDtype::kBF16) &&
              static_cast<int>(attention_tiles::KvElement::kF16) == static_cast<int>(KvDtype::kF16));
static_assert(attention_tiles::kMaxHeadDim == kMaxAttentionHeadDim);

}  // namespace

void paged_attention(const float* q, int64_t q_stride, std::span<const AttentionSequence> sequences,
                     const int32_t* row_sequence, int64_t num_rows, const PagedKvLayer& kv, const AttentionShape& shape,
                     float* out, int64_t out_stride, ThreadPool& pool) {
  if (active_cpu_isa() == CpuIsa::kAvx512) {
    paged_attention_avx512(q, q_stride, sequences, kv, shape, out, out_stride, pool);
    return;
  }
  const HeadGrouping g = plan_head_groups(num_rows, shape, pool.num_threads());
  const int64_t items = num_rows * shape.num_kv_heads * g.groups_per_kv;
  // Causal rows cost in proportion to their position: hand items out first come first served.
  pool.parallel_for_dynamic(items, 1, [&](int64_t begin, int64_t end) {
    switch (kv.dtype) {
      case KvDtype::kF32:
        attend_range<KvDtype::kF32>(q, q_stride, sequences, row_sequence, kv, shape, out, out_stride, g,
                                    begin, end);
        break;
      case KvDtype::kBF16:
        attend_range<KvDtype::kBF16>(q, q_stride, sequences, row_sequence, kv, shape, out, out_stride, g,
                                     begin, end);
        break;
      case KvDtype::kF16:
        attend_range<KvDtype::kF16>(q, q_stride, sequences, row_sequence, kv, shape, out, out_stride, g,
                                    begin, end);
        break;
      case KvDtype::kInt8:
        attend_range<KvDtype::kInt8>(q, q_stride, sequences, row_sequence, kv, shape, out, out_stride, g,
                                     begin, end);
        break;
    }
  });
}

}  // namespace tgi::kernels
