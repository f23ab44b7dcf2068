// Int8 kernels for block-quantized weights with AVX2 only (the build's baseline): vpmaddubsw
// (u8 × s8 pairs into int16) then vpmaddwd against ones (into int32), one 32-element block per
// step. int32 lane l sums 4 consecutive elements. Q8_0's signed weights use the sign trick
// (|w| × x·sign(w)); the unsigned codes of the other formats meet x directly, and their constant
// offset c is cancelled exactly by starting each lane at -c · Σ x. No product can saturate int16:
// |x| ≤ 127 and the unsigned codes are ≤ 128 (Q8_0 |w|), 15 (4-bit) or 63 (Q6_K).
#include <immintrin.h>

#include <cstddef>

#include "kernels/cpu/gemm/tile_schedule.h"
#include "kernels/cpu/qgemm/qgemm_problem.h"
#include "kernels/quant/block_formats.h"

namespace tgi::kernels::qgemm {

static_assert(sizeof(quant::BlockQ8_0) == kQ8_0Bytes && offsetof(quant::BlockQ8_0, qs) == 2);
static_assert(sizeof(quant::BlockQ4_0) == kQ4_0Bytes && offsetof(quant::BlockQ4_0, qs) == 2);
static_assert(sizeof(quant::BlockQ4_K) == kQ4_KBytes && offsetof(quant::BlockQ4_K, scales) == kQ4_KScales &&
              offsetof(quant::BlockQ4_K, qs) == kQ4_KQs);
static_assert(sizeof(quant::BlockQ6_K) == kQ6_KBytes && offsetof(quant::BlockQ6_K, qh) == kQ6_KQh &&
              offsetof(quant::BlockQ6_K, scales) == kQ6_KScales && offsetof(quant::BlockQ6_K, d) == kQ6_KD);

namespace {

inline float reduce(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

inline uint16_t load_u16(const std::byte* p) {
  uint16_t v;
  __builtin_memcpy(&v, p, 2);
  return v;
}

inline float half(const std::byte* p) { return _cvtsh_ss(load_u16(p)); }

inline __m256i lane_sums(__m256i u8, __m256i s8) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u8, s8), _mm256_set1_epi16(1));
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// --- formats ---------------------------------------------------------------------------------
// Each describes a "unit" of weights (one 32-block, or a 256-element super-block of 8 blocks):
// per-row state prepared once per unit, then one (weight codes, lane scales) per 32-block step.

struct Q8_0 {
  static constexpr int64_t kUnitElements = 32;
  static constexpr int kSteps = 1;
  static constexpr bool kHasMins = false;
  static constexpr bool kSigned = true;
  static constexpr char kOffset = 0;
  struct Row {};
  static Row prepare(const std::byte*, int64_t) { return {}; }
  static void step(const std::byte* row, int64_t unit, int, const Row&, __m256i* w, __m256* scale) {
    const std::byte* b = row + unit * kQ8_0Bytes;
    *w = load256(b + 2);
    *scale = _mm256_set1_ps(half(b));
  }
};

struct Q4_0 {
  static constexpr int64_t kUnitElements = 32;
  static constexpr int kSteps = 1;
  static constexpr bool kHasMins = false;
  static constexpr bool kSigned = false;
  static constexpr char kOffset = 8;
  struct Row {};
  static Row prepare(const std::byte*, int64_t) { return {}; }
  static void step(const std::byte* row, int64_t unit, int, const Row&, __m256i* w, __m256* scale) {
    const std::byte* b = row + unit * kQ4_0Bytes;
    // The 16 code bytes in both halves (one broadcast load), the upper half shifted right by a
    // nibble: low nibbles give elements 0-15, high nibbles 16-31. One op fewer per row and block
    // than shifting a copy and inserting it, on a GEMV that is compute-bound on AVX2.
    const __m256i both = _mm256_srlv_epi32(
        _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 2))),
        _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
    *w = _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
    *scale = _mm256_set1_ps(half(b));
  }
};

struct Q4_K {
  static constexpr int64_t kUnitElements = 256;
  static constexpr int kSteps = 8;
  static constexpr bool kHasMins = true;
  static constexpr bool kSigned = false;
  static constexpr char kOffset = 0;
  struct Row {
    alignas(32) float scales[8];  // d · sc_j
    __m256 mins;      // dmin · m_j
  };
  static Row prepare(const std::byte* row, int64_t unit) {
    const std::byte* blk = row + unit * kQ4_KBytes;
    // The 12 packed bytes as three words: bytes 0-3 hold sc0-3 (low 6 bits) and the top bits of
    // sc4-7, bytes 4-7 likewise m0-3 and m4-7, bytes 8-11 the low nibbles of sc4-7 and m4-7.
    uint32_t packed[3];
    __builtin_memcpy(packed, blk + kQ4_KScales, 12);
    const uint64_t sc = (packed[0] & 0x3F3F3F3Fu) |
                        static_cast<uint64_t>((packed[2] & 0x0F0F0F0Fu) | (((packed[0] >> 6) & 0x03030303u) << 4)) << 32;
    const uint64_t mn = (packed[1] & 0x3F3F3F3Fu) |
                        static_cast<uint64_t>(((packed[2] >> 4) & 0x0F0F0F0Fu) | (((packed[1] >> 6) & 0x03030303u) << 4)) << 32;
    Row r;
    _mm256_store_ps(r.scales, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(sc)))),
                                            _mm256_set1_ps(half(blk))));
    r.mins = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(mn)))),
                           _mm256_set1_ps(half(blk + 2)));
    return r;
  }
  static void step(const std::byte* row, int64_t unit, int b, const Row& r, __m256i* w, __m256* scale) {
    const __m256i q = load256(row + unit * kQ4_KBytes + kQ4_KQs + 32 * (b >> 1));
    *w = _mm256_and_si256((b & 1) ? _mm256_srli_epi16(q, 4) : q, _mm256_set1_epi8(0x0F));
    *scale = _mm256_set1_ps(r.scales[b]);
  }
};

struct Q6_K {
  static constexpr int64_t kUnitElements = 256;
  static constexpr int kSteps = 8;
  static constexpr bool kHasMins = false;
  static constexpr bool kSigned = false;
  static constexpr char kOffset = 32;
  struct Row {
    float scales[16];  // d · sc for the 16 sub-blocks
  };
  static Row prepare(const std::byte* row, int64_t unit) {
    const std::byte* blk = row + unit * kQ6_KBytes;
    const auto* sc = reinterpret_cast<const int8_t*>(blk + kQ6_KScales);
    const float d = half(blk + kQ6_KD);
    Row r;
    for (int j = 0; j < 16; ++j) r.scales[j] = d * static_cast<float>(sc[j]);
    return r;
  }
  // Block b: half h = b/4 of the super-block, quarter c = b%4 within it: low (c < 2) or high
  // nibbles of ql[32·(c%2) ...], with bit pair c of qh on top.
  static void step(const std::byte* row, int64_t unit, int b, const Row& r, __m256i* w, __m256* scale) {
    const std::byte* blk = row + unit * kQ6_KBytes;
    const int h = b >> 2, c = b & 3;
    const __m256i ql = load256(blk + 64 * h + 32 * (c & 1));
    const __m256i qh = load256(blk + kQ6_KQh + 32 * h);
    const __m256i low = _mm256_and_si256(_mm256_srl_epi16(ql, _mm_cvtsi32_si128(4 * (c >> 1))), _mm256_set1_epi8(0x0F));
    const __m256i high = _mm256_slli_epi16(
        _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * c)), _mm256_set1_epi8(3)), 4);
    *w = _mm256_or_si256(low, high);
    *scale = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_set1_ps(r.scales[2 * b])), _mm_set1_ps(r.scales[2 * b + 1]), 1);
  }
};

// --- tiles ---------------------------------------------------------------------------------

template <typename F, int kTokens, int kRows>
inline void tile(const QuantGemmProblem& p, int64_t t0, int64_t r0) {
  __m256 acc[kTokens][kRows];
  for (int i = 0; i < kTokens; ++i)
    for (int j = 0; j < kRows; ++j) acc[i][j] = _mm256_setzero_ps();
  const std::byte* w_row[kRows];
  for (int j = 0; j < kRows; ++j) w_row[j] = p.w + (r0 + j) * p.w_row_stride;
  const int8_t* xq[kTokens];
  const float* xs[kTokens];
  const float* xsum[kTokens];
  for (int i = 0; i < kTokens; ++i) {
    xq[i] = p.x.q + (t0 + i) * p.x.q_stride;
    xs[i] = p.x.scale + (t0 + i) * p.x.scale_stride;
    xsum[i] = p.x.scaled_sum + (t0 + i) * p.x.scale_stride;
  }

  const int64_t units = p.cols / F::kUnitElements;
  // One token: the next kRows rows (contiguous after these) stream in, a unit's share at a time,
  // while these are multiplied. The hardware prefetchers alone left the GEMV at a third of the
  // read bandwidth (kRows interleaved row streams, little work per byte). Past the range's end
  // these only touch other rows or unmapped addresses: prefetches never fault.
  const std::byte* next_rows = p.w + (r0 + kRows) * p.w_row_stride;
  const int64_t next_bytes_per_unit = units > 0 ? kRows * p.w_row_stride / units : 0;
  for (int64_t u = 0; u < units; ++u) {
    if constexpr (kTokens == 1) {
      for (int64_t line = 0; line < next_bytes_per_unit; line += 64)
        _mm_prefetch(reinterpret_cast<const char*>(next_rows + u * next_bytes_per_unit + line), _MM_HINT_T0);
    }
    typename F::Row rs[kRows];
    for (int j = 0; j < kRows; ++j) rs[j] = F::prepare(w_row[j], u);
    if constexpr (F::kHasMins) {
      for (int i = 0; i < kTokens; ++i) {
        const __m256 s = _mm256_loadu_ps(xsum[i] + 8 * u);
        // The min term rides in the same accumulator, once per super-block.
        for (int j = 0; j < kRows; ++j) acc[i][j] = _mm256_fnmadd_ps(rs[j].mins, s, acc[i][j]);
      }
    }
    for (int b = 0; b < F::kSteps; ++b) {
      __m256i w[kRows];
      __m256 ws[kRows];
      for (int j = 0; j < kRows; ++j) F::step(w_row[j], u, b, rs[j], &w[j], &ws[j]);
      const int64_t block = u * F::kSteps + b;
      for (int i = 0; i < kTokens; ++i) {
        const __m256i x = load256(xq[i] + 32 * block);
        const __m256 x_scale = _mm256_broadcast_ss(xs[i] + block);
        if constexpr (F::kSigned) {
          for (int j = 0; j < kRows; ++j) {
            const __m256i dot = lane_sums(_mm256_sign_epi8(w[j], w[j]), _mm256_sign_epi8(x, w[j]));
            acc[i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(ws[j], x_scale), acc[i][j]);
          }
        } else {
          const __m256i start = F::kOffset != 0 ? _mm256_sub_epi32(_mm256_setzero_si256(), lane_sums(_mm256_set1_epi8(F::kOffset), x))
                                                : _mm256_setzero_si256();
          for (int j = 0; j < kRows; ++j) {
            const __m256i dot = _mm256_add_epi32(start, lane_sums(w[j], x));
            acc[i][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(ws[j], x_scale), acc[i][j]);
          }
        }
      }
    }
  }

  for (int i = 0; i < kTokens; ++i) {
    float* y = p.y + (t0 + i) * p.y_stride + r0;
    for (int j = 0; j < kRows; ++j) {
      float sum = reduce(acc[i][j]);
      if (p.bias) sum += p.bias[r0 + j];
      y[j] = sum;
    }
  }
}

constexpr int64_t kTokenChunk = 64;

template <typename F, int kTokens, int kRows>
void rows(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end) {
  auto tile_at = [&p]<int kT, int kR>(int64_t t, int64_t r) { tile<F, kT, kR>(p, t, r); };
  for (int64_t c = 0; c < p.num_tokens; c += kTokenChunk) {
    const int64_t c_end = c + kTokenChunk < p.num_tokens ? c + kTokenChunk : p.num_tokens;
    gemm::tile_tokens_and_rows<kTokens, kRows>(tile_at, c, c_end, row_begin, row_end);
  }
}

template <typename F>
void rows_for_batch(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end) {
  // 16 ymm registers: a 4×2 tile (8 accumulators) for batches, 4 rows in flight for one token.
  if (p.num_tokens == 1) {
    rows<F, 1, 4>(p, row_begin, row_end);
  } else {
    rows<F, 4, 2>(p, row_begin, row_end);
  }
}

}  // namespace

void qgemm_rows_avx2(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end) {
  switch (p.format) {
    case QuantFormat::kQ8_0: rows_for_batch<Q8_0>(p, row_begin, row_end); break;
    case QuantFormat::kQ4_0: rows_for_batch<Q4_0>(p, row_begin, row_end); break;
    case QuantFormat::kQ4_K: rows_for_batch<Q4_K>(p, row_begin, row_end); break;
    case QuantFormat::kQ6_K: rows_for_batch<Q6_K>(p, row_begin, row_end); break;
  }
}

}  // namespace tgi::kernels::qgemm
