// Paged attention with AVX-512: query rows in tiles, keys in tiles of 64, flash-style (one
// online-softmax update per key tile, no score matrix).
//
// An item is up to 8 consecutive query rows of one sequence × up to 8 query heads sharing one KV
// head. Each key tile is read once per item: its keys are widened to f32 and transposed, 16 keys
// at a time, so that a score vector holds 16 keys of one (row, head) and q · k is a chain of FMAs
// over the head dims with q broadcast — 8 (row, head) chains share each transposed key vector.
// Values are accumulated in registers, 64 dims × up to 4 heads of a row at a time, each value
// vector loaded once for those heads. Compared with scoring one query at a time (attention.cpp's
// AVX2 path) this turns a long prefill's attention from load- and shuffle-bound into FMA-bound.
//
// Per (row, head) the arithmetic is fixed — key tiles aligned to absolute positions, each score a
// chain over dims 0..head_dim-1, keys outside the row's window scored -inf (weight exactly 0) and
// skipped when values are summed — so tiles, items and threads never change a result.
//
// Compiled for AVX-512 (pragma below), called only when cpu_isa.cpp found it; includes nothing
// but intrinsics and plain-data headers (no inline function shared with AVX2 code).
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq")
// The intrinsics headers start some vectors undefined on purpose; g++ 12 flags them.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/cpu/attention_tile_problem.h"
#include "kernels/cpu/exp_polynomial.h"

namespace tgi::kernels::attention_tiles {
namespace {

constexpr int kKeyTile = 64;  // keys per softmax update
constexpr int kLanes = 16;    // keys per score vector
constexpr int kSubTiles = kKeyTile / kLanes;
constexpr int kMaxCombos = kMaxTileRows * kMaxItemHeads;  // (row, head) pairs of an item
constexpr int kQkBatch = 8;                               // score chains sharing one transposed key vector
constexpr int kPvHeads = 4;                               // heads of a row accumulated together
constexpr int kPvDims = 64;  // dims accumulated in registers per pass (4 vectors)

inline int64_t min64(int64_t a, int64_t b) {
  return a < b ? a : b;
}
inline int64_t max64(int64_t a, int64_t b) {
  return a > b ? a : b;
}

// exp(x), 16 lanes: vector_exp.h's exp8 at twice the width, with the same constants
// (exp_polynomial.h); -inf and anything below -88.4 give exactly 0.
inline __m512 exp16(__m512 x) {
  namespace e = tgi::kernels::exp_polynomial;
  x = _mm512_min_ps(x, _mm512_set1_ps(e::kClamp));
  x = _mm512_max_ps(x, _mm512_set1_ps(-e::kClamp));
  __m512 n = _mm512_fmadd_ps(x, _mm512_set1_ps(e::kLog2e), _mm512_set1_ps(0.5f));
  n = _mm512_roundscale_ps(n, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(e::kLn2High), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(e::kLn2Low), r);
  __m512 p = _mm512_set1_ps(e::kCoefficients[0]);
  for (int i = 1; i < e::kDegree; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(e::kCoefficients[i]));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i bits =
      _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

template <KvElement E>
constexpr int64_t element_bytes() {
  return E == KvElement::kF32 ? 4 : E == KvElement::kInt8 ? 1 : 2;
}

// Up to 16 stored elements at p (lanes outside `m` are 0 and not read) widened to floats.
template <KvElement E>
inline __m512 load16(const std::byte* p, __mmask16 m) {
  if constexpr (E == KvElement::kF32) {
    return _mm512_maskz_loadu_ps(m, p);
  } else if constexpr (E == KvElement::kBF16) {
    const __m256i h = _mm256_maskz_loadu_epi16(m, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else if constexpr (E == KvElement::kF16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  } else {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, p)));
  }
}

inline __mmask16 lanes_below(int64_t n) {
  return n >= kLanes ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n > 0 ? n : 0)) - 1);
}

// In-place 16×16 transpose by block swaps: at block size b, rows i and i + b exchange the
// upper-right and lower-left b×b blocks (b = 8, 4, 2, 1).
struct TransposeIndex {
  __m512i first[4], second[4];
  TransposeIndex() {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int s = 0; s < 4; ++s) {
      const int b = 8 >> s;
      const __m512i bit = _mm512_set1_epi32(b), other = _mm512_set1_epi32(16);
      const __mmask16 upper = _mm512_test_epi32_mask(lane, bit);  // lanes j with j & b
      // first'[j] = j & b ? second[j - b] : first[j];  second'[j] = j & b ? second[j] : first[j + b]
      first[s] = _mm512_mask_blend_epi32(upper, lane, _mm512_sub_epi32(_mm512_add_epi32(lane, other), bit));
      second[s] = _mm512_mask_blend_epi32(upper, _mm512_add_epi32(lane, bit), _mm512_add_epi32(lane, other));
    }
  }
};

inline void transpose16(__m512 r[16], const TransposeIndex& index) {
  for (int s = 0; s < 4; ++s) {
    const int b = 8 >> s;
    for (int i = 0; i < 16; ++i) {
      if (i & b) continue;
      const __m512 a = r[i], c = r[i + b];
      r[i] = _mm512_permutex2var_ps(a, index.first[s], c);
      r[i + b] = _mm512_permutex2var_ps(a, index.second[s], c);
    }
  }
}

// kt[d][lane] = key[lane][d] for d < head_dim (rounded up to 16; padding dims are 0).
template <KvElement E>
void transpose_keys(const std::byte* const keys[kLanes], int32_t head_dim, const TransposeIndex& index,
                    float* kt) {
  constexpr int64_t kBytes = element_bytes<E>();
  for (int64_t d0 = 0; d0 < head_dim; d0 += kLanes) {
    const __mmask16 m = lanes_below(head_dim - d0);
    __m512 r[16];
    for (int i = 0; i < kLanes; ++i) r[i] = load16<E>(keys[i] + d0 * kBytes, m);
    transpose16(r, index);
    for (int i = 0; i < kLanes; ++i) _mm512_store_ps(kt + (d0 + i) * kLanes, r[i]);
  }
}

// Cache lines prefetched two per head dim while a subtile's scores are computed, so the FMA chains
// hide them: the keys of the same subtile of the next tile, and the values of this subtile, which
// the tile's value pass reads next. Without them a long context's attention is latency-bound (one
// thread streamed 5 GB/s of KV where plain reads of it reach 26); a burst of prefetches at the
// start of each tile measured no better (the core drops what it cannot track), and K and V both
// two tiles ahead 10-15% slower than this.
constexpr int kMaxLinesAhead = 512;
struct LinesAhead {
  const char* line[kMaxLinesAhead];
  int count = 0;
};

// out[c] = Σ_d q[c][d] · kt[d] for C score vectors: one FMA chain per vector, d in order.
template <int C>
inline void score_batch(const float* const* q, const float* kt, int32_t head_dim, float* const* out,
                        const LinesAhead* ahead) {
  __m512 a[C];
  for (int c = 0; c < C; ++c) a[c] = _mm512_setzero_ps();
  for (int32_t d = 0; d < head_dim; ++d) {
    if (ahead != nullptr && 2 * d < ahead->count) {
      _mm_prefetch(ahead->line[2 * d], _MM_HINT_T0);
      if (2 * d + 1 < ahead->count) _mm_prefetch(ahead->line[2 * d + 1], _MM_HINT_T0);
    }
    const __m512 k = _mm512_load_ps(kt + d * kLanes);
    for (int c = 0; c < C; ++c) a[c] = _mm512_fmadd_ps(_mm512_set1_ps(q[c][d]), k, a[c]);
  }
  for (int c = 0; c < C; ++c) _mm512_store_ps(out[c], a[c]);
}

// A switch, not a table of score_batch<C> pointers: the calls inline here, and the table measured
// ~5% slower on a 512-token prefill (accumulate_row likewise).
void score_combos(const float* const* q, int count, const float* kt, int32_t head_dim, float* const* out,
                  const LinesAhead& lines_ahead) {
  for (int c = 0; c < count; c += kQkBatch) {
    const LinesAhead* ahead = c == 0 ? &lines_ahead : nullptr;
    switch (count - c < kQkBatch ? count - c : kQkBatch) {
      case 8:
        score_batch<8>(q + c, kt, head_dim, out + c, ahead);
        break;
      case 7:
        score_batch<7>(q + c, kt, head_dim, out + c, ahead);
        break;
      case 6:
        score_batch<6>(q + c, kt, head_dim, out + c, ahead);
        break;
      case 5:
        score_batch<5>(q + c, kt, head_dim, out + c, ahead);
        break;
      case 4:
        score_batch<4>(q + c, kt, head_dim, out + c, ahead);
        break;
      case 3:
        score_batch<3>(q + c, kt, head_dim, out + c, ahead);
        break;
      case 2:
        score_batch<2>(q + c, kt, head_dim, out + c, ahead);
        break;
      default:
        score_batch<1>(q + c, kt, head_dim, out + c, ahead);
        break;
    }
  }
}

// acc[h][dims d0 .. d0+64) += Σ_{t in [t_lo, t_hi]} p[h][t] · v_t, in key order, for H heads.
template <KvElement E, int H>
inline void accumulate_values(const float* const* p, const std::byte* const* values, int t_lo, int t_hi,
                              int64_t d0, const __mmask16 masks[4], float* const* acc) {
  constexpr int64_t kBytes = element_bytes<E>();
  __m512 a[H][4];
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < 4; ++i) a[h][i] = _mm512_load_ps(acc[h] + d0 + kLanes * i);
  for (int t = t_lo; t <= t_hi; ++t) {
    __m512 v[4];
    for (int i = 0; i < 4; ++i) v[i] = load16<E>(values[t] + (d0 + kLanes * i) * kBytes, masks[i]);
    for (int h = 0; h < H; ++h) {
      const __m512 w = _mm512_set1_ps(p[h][t]);
      for (int i = 0; i < 4; ++i) a[h][i] = _mm512_fmadd_ps(w, v[i], a[h][i]);
    }
  }
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < 4; ++i) _mm512_store_ps(acc[h] + d0 + kLanes * i, a[h][i]);
}

template <KvElement E>
void accumulate_row(const float* const* p, int heads, const std::byte* const* values, int t_lo, int t_hi,
                    int32_t v_head_dim, float* const* acc) {
  for (int64_t d0 = 0; d0 < v_head_dim; d0 += kPvDims) {
    __mmask16 masks[4];
    for (int i = 0; i < 4; ++i) masks[i] = lanes_below(v_head_dim - d0 - kLanes * i);
    for (int h = 0; h < heads; h += kPvHeads) {
      switch (heads - h < kPvHeads ? heads - h : kPvHeads) {
        case 4:
          accumulate_values<E, 4>(p + h, values, t_lo, t_hi, d0, masks, acc + h);
          break;
        case 3:
          accumulate_values<E, 3>(p + h, values, t_lo, t_hi, d0, masks, acc + h);
          break;
        case 2:
          accumulate_values<E, 2>(p + h, values, t_lo, t_hi, d0, masks, acc + h);
          break;
        default:
          accumulate_values<E, 1>(p + h, values, t_lo, t_hi, d0, masks, acc + h);
          break;
      }
    }
  }
}

template <KvElement E>
void attend_item(const AttentionTileProblem& p, const RowTile& tile, int32_t kv_head, int32_t head_begin,
                 int heads, const TransposeIndex& index) {
  constexpr int64_t kBytes = element_bytes<E>();
  const int rows = tile.rows, combos = rows * heads;  // combo c: row c / heads, head c % heads
  const int64_t acc_stride = (int64_t{p.v_head_dim} + kPvDims - 1) / kPvDims * kPvDims;
  const int64_t k_stride = p.k_token_stride, v_stride = p.v_token_stride;

  alignas(64) float acc_storage[kAccFloats];
  alignas(64) float scores[kMaxCombos][kKeyTile];
  alignas(64) float kt[kMaxHeadDim * kLanes];
  alignas(64) float k_scale[kKeyTile], v_scale[kKeyTile];
  float running_max[kMaxCombos], denom[kMaxCombos];
  const float* q[kMaxCombos];
  float* acc[kMaxCombos];
  float* score_rows[kMaxCombos];
  const float* weight_rows[kMaxCombos];
  int64_t first[kMaxTileRows], last[kMaxTileRows];  // each row's visible positions [first, last]
  const std::byte* keys[kKeyTile];
  const std::byte* values[kKeyTile];

  const float minus_inf = -__builtin_inff();
  for (int r = 0; r < rows; ++r) {
    const int64_t pos = tile.first_position + r;
    int64_t f = 0;
    if (p.sliding_window > 0) f = max64(0, pos - p.sliding_window + 1);
    if (p.chunk_size > 0) f = max64(f, pos / p.chunk_size * p.chunk_size);
    first[r] = f;
    last[r] = pos;
  }
  for (int c = 0; c < combos; ++c) {
    const int r = c / heads, h = c % heads;
    q[c] = p.q + (tile.first_row + r) * p.q_stride + int64_t{head_begin + h} * p.head_dim;
    acc[c] = acc_storage + c * acc_stride;
    score_rows[c] = scores[c];
    weight_rows[c] = scores[c];
    for (int64_t d = 0; d < acc_stride; d += kLanes) _mm512_store_ps(acc[c] + d, _mm512_setzero_ps());
    running_max[c] = minus_inf;
    denom[c] = 0.0f;
  }
  int64_t lo = first[0], hi = last[rows - 1];
  for (int r = 1; r < rows; ++r) lo = min64(lo, first[r]);
  const __m512i lane_offsets = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  // A subtile's scores pass head_dim times through the FMA loop, two prefetches each time.
  const int64_t k_row_bytes = int64_t{p.head_dim} * kBytes, v_row_bytes = int64_t{p.v_head_dim} * kBytes;
  const int max_lines_ahead = static_cast<int>(min64(kMaxLinesAhead, 2 * int64_t{p.head_dim}));
  LinesAhead lines_ahead;
  // Key position j's cache slot, and where its K row (this KV head) starts.
  const auto slot_of = [&](int64_t j) {
    return int64_t{tile.block_table[j / p.block_size]} * p.block_size + j % p.block_size;
  };
  const auto key_row = [&](int64_t slot) {
    return p.k + (slot * k_stride + int64_t{kv_head} * p.head_dim) * kBytes;
  };

  for (int64_t j0 = lo / kKeyTile * kKeyTile; j0 <= hi; j0 += kKeyTile) {
    const int n = static_cast<int>(min64(kKeyTile, hi + 1 - j0));
    for (int t = 0; t < kKeyTile; ++t) {
      if (t < n) {
        const int64_t slot = slot_of(j0 + t);
        keys[t] = key_row(slot);
        values[t] = p.v + (slot * v_stride + int64_t{kv_head} * p.v_head_dim) * kBytes;
        if constexpr (E == KvElement::kInt8) {
          k_scale[t] = p.k_scales[slot * p.num_kv_heads + kv_head];
          v_scale[t] = p.v_scales[slot * p.num_kv_heads + kv_head];
        }
      } else {
        keys[t] = keys[n - 1];  // read in bounds, scored -inf
        values[t] = values[n - 1];
        k_scale[t] = v_scale[t] = 0.0f;
      }
    }
    // Raw scores of every combo, 16 keys at a time.
    for (int s = 0; s < kSubTiles; ++s) {
      float* out[kMaxCombos];
      for (int c = 0; c < combos; ++c) out[c] = score_rows[c] + kLanes * s;
      if (kLanes * s >= n) {
        for (int c = 0; c < combos; ++c) _mm512_store_ps(out[c], _mm512_set1_ps(minus_inf));
        continue;
      }
      transpose_keys<E>(keys + kLanes * s, p.head_dim, index, kt);
      lines_ahead.count = 0;
      for (int64_t j = j0 + kKeyTile + kLanes * s; j < j0 + kKeyTile + kLanes * (s + 1) && j <= hi; ++j) {
        const char* k = reinterpret_cast<const char*>(key_row(slot_of(j)));
        for (int64_t b = 0; b < k_row_bytes && lines_ahead.count < max_lines_ahead; b += 64)
          lines_ahead.line[lines_ahead.count++] = k + b;
      }
      for (int t = kLanes * s; t < kLanes * (s + 1) && t < n; ++t) {
        const char* v = reinterpret_cast<const char*>(values[t]);
        for (int64_t b = 0; b < v_row_bytes && lines_ahead.count < max_lines_ahead; b += 64)
          lines_ahead.line[lines_ahead.count++] = v + b;
      }
      score_combos(q, combos, kt, p.head_dim, out, lines_ahead);
    }
    // One online-softmax update per combo: scores -> weights in place.
    for (int c = 0; c < combos; ++c) {
      const int r = c / heads;
      if (first[r] > j0 + n - 1 || last[r] < j0) {
        continue;  // no visible key in this tile
      }
      float* sc = score_rows[c];
      for (int s = 0; s < kSubTiles; ++s) {
        __m512 v = _mm512_load_ps(sc + kLanes * s);
        if constexpr (E == KvElement::kInt8) v = _mm512_mul_ps(v, _mm512_load_ps(k_scale + kLanes * s));
        _mm512_store_ps(sc + kLanes * s, _mm512_mul_ps(v, _mm512_set1_ps(p.scale)));
      }
      if (p.softcap > 0.0f)
        for (int t = 0; t < kKeyTile; ++t) sc[t] = p.softcap * __builtin_tanhf(sc[t] / p.softcap);
      __m512 tile_max = _mm512_set1_ps(minus_inf);
      __m512 v[kSubTiles];
      for (int s = 0; s < kSubTiles; ++s) {
        // Positions relative to the tile (0 .. 63) against the row's window, also relative.
        const __m512i position = _mm512_add_epi32(_mm512_set1_epi32(kLanes * s), lane_offsets);
        const __mmask16 visible =
            _mm512_cmpge_epi32_mask(position,
                                    _mm512_set1_epi32(static_cast<int32_t>(max64(first[r] - j0, -1)))) &
            _mm512_cmple_epi32_mask(position,
                                    _mm512_set1_epi32(static_cast<int32_t>(min64(last[r] - j0, kKeyTile))));
        v[s] = _mm512_mask_blend_ps(visible, _mm512_set1_ps(minus_inf), _mm512_load_ps(sc + kLanes * s));
        tile_max = _mm512_max_ps(tile_max, v[s]);
      }
      const float m = _mm512_reduce_max_ps(tile_max);
      if (m > running_max[c]) {
        const float correction = __builtin_expf(running_max[c] - m);  // 0 on the first tile
        denom[c] *= correction;
        const __m512 scale = _mm512_set1_ps(correction);
        for (int64_t d = 0; d < acc_stride; d += kLanes)
          _mm512_store_ps(acc[c] + d, _mm512_mul_ps(_mm512_load_ps(acc[c] + d), scale));
        running_max[c] = m;
      }
      const __m512 shift = _mm512_set1_ps(running_max[c]);
      for (int s = 0; s < kSubTiles; ++s) v[s] = exp16(_mm512_sub_ps(v[s], shift));
      denom[c] += _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(v[0], v[1]), _mm512_add_ps(v[2], v[3])));
      for (int s = 0; s < kSubTiles; ++s) {
        if constexpr (E == KvElement::kInt8) v[s] = _mm512_mul_ps(v[s], _mm512_load_ps(v_scale + kLanes * s));
        _mm512_store_ps(sc + kLanes * s, v[s]);
      }
    }
    // Values, per row over exactly its visible keys.
    for (int r = 0; r < rows; ++r) {
      const int t_lo = static_cast<int>(max64(first[r] - j0, 0));
      const int t_hi = static_cast<int>(min64(last[r] - j0, n - 1));
      if (t_lo > t_hi) continue;
      accumulate_row<E>(weight_rows + r * heads, heads, values, t_lo, t_hi, p.v_head_dim, acc + r * heads);
    }
  }

  for (int c = 0; c < combos; ++c) {
    const int r = c / heads, h = c % heads;
    const int32_t head = head_begin + h;
    float scale = 1.0f;
    if (p.sinks != nullptr) {  // the sink takes probability mass but contributes no value
      const float sink = p.sinks[head];
      const float m = running_max[c] > sink ? running_max[c] : sink;
      scale = __builtin_expf(running_max[c] - m);
      denom[c] = denom[c] * scale + __builtin_expf(sink - m);
    }
    const float inv = 1.0f / denom[c];
    float* out = p.out + (tile.first_row + r) * p.out_stride + int64_t{head} * p.v_head_dim;
    for (int64_t d = 0; d < p.v_head_dim; d += kLanes) {
      const __mmask16 m = lanes_below(p.v_head_dim - d);
      __m512 a = _mm512_load_ps(acc[c] + d);
      if (p.sinks != nullptr) a = _mm512_mul_ps(a, _mm512_set1_ps(scale));
      _mm512_mask_storeu_ps(out + d, m, _mm512_mul_ps(a, _mm512_set1_ps(inv)));
    }
  }
}

template <KvElement E>
void attend_items(const AttentionTileProblem& p, int64_t item_begin, int64_t item_end) {
  const TransposeIndex index;
  const int32_t heads_per_kv = p.num_heads / p.num_kv_heads;
  const int64_t items_per_tile = int64_t{p.num_kv_heads} * p.items_per_kv_head;
  for (int64_t item = item_begin; item < item_end; ++item) {
    const RowTile& tile = p.tiles[item / items_per_tile];
    const int64_t within = item % items_per_tile;
    const auto kv_head = static_cast<int32_t>(within / p.items_per_kv_head);
    const auto first_in_kv = static_cast<int32_t>(within % p.items_per_kv_head) * p.heads_per_item;
    const int heads =
        heads_per_kv - first_in_kv < p.heads_per_item ? heads_per_kv - first_in_kv : p.heads_per_item;
    attend_item<E>(p, tile, kv_head, kv_head * heads_per_kv + first_in_kv, heads, index);
  }
}

}  // namespace

void attend_items_avx512(const AttentionTileProblem& p, int64_t item_begin, int64_t item_end) {
  switch (p.element) {
    case KvElement::kF32:
      attend_items<KvElement::kF32>(p, item_begin, item_end);
      break;
    case KvElement::kBF16:
      attend_items<KvElement::kBF16>(p, item_begin, item_end);
      break;
    case KvElement::kF16:
      attend_items<KvElement::kF16>(p, item_begin, item_end);
      break;
    case KvElement::kInt8:
      attend_items<KvElement::kInt8>(p, item_begin, item_end);
      break;
  }
}

}  // namespace tgi::kernels::attention_tiles
