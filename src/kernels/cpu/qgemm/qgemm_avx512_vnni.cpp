// Int8 kernels for block-quantized weights with AVX-512-VNNI (vpdpbusd: u8 × s8, 4-way, into
// int32): the entry point for every format, and the per-row kernel Q6_K uses (Q8_0, Q4_0 and
// Q4_K go to the sixteen-rows-per-vector kernel in qgemm_rows16_avx512_vnni.cpp). This file
// alone is compiled for that target (pragma below) and is only called after cpu_isa.cpp found
// the CPU has it; it includes nothing but intrinsics and the plain-data header.
//
// Each output row keeps its own vector here. Every step takes 64 elements (two 32-element
// blocks) into one 512-bit register: int32 lane l sums 4 consecutive elements, lanes 0-7 the
// first block, 8-15 the second. Q6_K's unsigned 6-bit codes carry an offset of 32, cancelled
// exactly by starting each lane at -32 · Σ x, computed once per token and step. Scales are then
// applied in float per lane: acc += float(Σ w·x) · (weight scale · activation scale).
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
// gcc 12 flags its own AVX-512 intrinsics (their _mm512_undefined_* placeholders) as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/cpu/qgemm/qgemm_problem.h"

namespace tgi::kernels::qgemm {
namespace {

inline float reduce(__m512 v) {
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));
  __m128 s = _mm512_castps512_ps128(v);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

inline uint16_t load_u16(const std::byte* p) {
  uint16_t v;
  __builtin_memcpy(&v, p, 2);
  return v;
}

// Activation scales of blocks 2p, 2p+1 as [a ×8, b ×8].
inline __m512 activation_pair_scale(const float* scale) {
  const __m128 two = _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(scale)));
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1), _mm512_castps128_ps512(two));
}

// -offset · (sum of each lane's 4 activations).
inline __m512i offset_start(__m512i x, char offset) {
  return _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_set1_epi8(offset), x));
}

// --- formats -------------------------------------------------------------------------------
// Each describes a "unit" of weights (a pair of 32-blocks, or a 256-element super-block of 4
// steps): per-row state prepared once per unit, then one (weights, weight scale) per step.

// 16 sub-blocks of 16 with int8 scales; 6-bit codes q with x = d·sc·(q − 32).
struct Q6_K {
  static constexpr int64_t kUnitElements = 256;
  static constexpr int kSteps = 4;
  static constexpr bool kHasMins = false;
  static constexpr char kOffset = 32;
  struct Row {
    __m512 scales;  // d · sc for the 16 sub-blocks
  };
  static Row prepare(const std::byte* row, int64_t unit) {
    const std::byte* blk = row + unit * kQ6_KBytes;
    const __m128i sc = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ6_KScales));
    const float d = _cvtsh_ss(load_u16(blk + kQ6_KD));
    return {_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(sc)), _mm512_set1_ps(d))};
  }
  // Step g covers elements 64g..64g+63: half h = g/2 of the super-block; within it the low
  // nibbles of ql (g even) or the high nibbles (g odd), with qh's matching bit pairs.
  template <bool>
  static void step(const std::byte* row, int64_t unit, int g, const Row& r, __m512i* w, __m512* scale) {
    const std::byte* blk = row + unit * kQ6_KBytes;
    const int h = g >> 1;
    const __m512i ql = _mm512_loadu_si512(blk + 64 * h);  // ql[0..63] of this half
    const __m256i qh256 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ6_KQh + 32 * h));
    const __m512i qh = _mm512_inserti64x4(_mm512_castsi256_si512(qh256), qh256, 1);
    __m512i low, high;
    if ((g & 1) == 0) {
      low = _mm512_and_si512(ql, _mm512_set1_epi8(0x0F));
      // bits 0-1 (elements 0-31) and 2-3 (32-63) of qh moved to bits 4-5.
      high = _mm512_sllv_epi16(qh, _mm512_setr_epi64(0x0004000400040004, 0x0004000400040004, 0x0004000400040004,
                                                     0x0004000400040004, 0x0002000200020002, 0x0002000200020002,
                                                     0x0002000200020002, 0x0002000200020002));
    } else {
      low = _mm512_and_si512(_mm512_srli_epi16(ql, 4), _mm512_set1_epi8(0x0F));
      // bits 4-5 (elements 64-95) stay; bits 6-7 (96-127) move down to 4-5.
      high = _mm512_srlv_epi16(qh, _mm512_setr_epi64(0, 0, 0, 0, 0x0002000200020002, 0x0002000200020002,
                                                     0x0002000200020002, 0x0002000200020002));
    }
    *w = _mm512_or_si512(low, _mm512_and_si512(high, _mm512_set1_epi8(0x30)));
    const __m512i idx = _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                         _mm512_set1_epi32(4 * g));
    *scale = _mm512_permutexvar_ps(idx, r.scales);
  }
};

// --- tiles ---------------------------------------------------------------------------------

template <typename F, int kTokens, int kRows>
inline void tile(const QuantGemmProblem& p, int64_t t0, int64_t r0) {
  __m512 acc[kTokens][kRows];
  for (int i = 0; i < kTokens; ++i)
    for (int j = 0; j < kRows; ++j) acc[i][j] = _mm512_setzero_ps();
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

  auto unit_body = [&]<bool kSecond>(int64_t u) {
    typename F::Row rs[kRows];
    for (int j = 0; j < kRows; ++j) rs[j] = F::prepare(w_row[j], u);
    if constexpr (F::kHasMins) {
      for (int i = 0; i < kTokens; ++i) {
        // The min term rides in the same accumulator (lanes 0-7; the zero lanes above add
        // nothing), once per super-block: −Σ_j dmin·m_j · scale_j·Σq_j.
        const __m512 s = _mm512_castps256_ps512(_mm256_loadu_ps(xsum[i] + 8 * u));
        for (int j = 0; j < kRows; ++j) acc[i][j] = _mm512_fnmadd_ps(rs[j].mins, s, acc[i][j]);
      }
    }
    for (int g = 0; g < F::kSteps; ++g) {
      __m512i w[kRows];
      __m512 ws[kRows];
      for (int j = 0; j < kRows; ++j) F::template step<kSecond>(w_row[j], u, g, rs[j], &w[j], &ws[j]);
      const int64_t pair = u * F::kSteps + g;
      for (int i = 0; i < kTokens; ++i) {
        const __m512i x = _mm512_loadu_si512(xq[i] + 64 * pair);
        const __m512 x_scale = activation_pair_scale(xs[i] + 2 * pair);
        const __m512i start = F::kOffset != 0 ? offset_start(x, F::kOffset) : _mm512_setzero_si512();
        for (int j = 0; j < kRows; ++j) {
          const __m512i dot = _mm512_dpbusd_epi32(start, w[j], x);
          acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(ws[j], x_scale), acc[i][j]);
        }
      }
    }
  };

  const int64_t blocks = p.cols / 32;
  const int64_t full_units = blocks * 32 / F::kUnitElements;
  for (int64_t u = 0; u < full_units; ++u) unit_body.template operator()<true>(u);
  if (full_units * F::kUnitElements < blocks * 32) unit_body.template operator()<false>(full_units);

  for (int i = 0; i < kTokens; ++i) {
    float* y = p.y + (t0 + i) * p.y_stride + r0;
    for (int j = 0; j < kRows; ++j) {
      float sum = reduce(acc[i][j]);
      if (p.bias) sum += p.bias[r0 + j];
      y[j] = sum;
    }
  }
}

// Tokens are taken in chunks whose quantized activations stay in L2 while every row tile of
// the range passes over them.
constexpr int64_t kTokenChunk = 64;

template <typename F, int kTokens, int kRows>
inline void token_tile_over_rows(const QuantGemmProblem& p, int64_t t, int64_t row_begin, int64_t row_end) {
  int64_t r = row_begin;
  for (; r + kRows <= row_end; r += kRows) tile<F, kTokens, kRows>(p, t, r);
  for (; r < row_end; ++r) tile<F, kTokens, 1>(p, t, r);
}

template <typename F, int kTokens, int kRows>
void rows(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end) {
  for (int64_t c = 0; c < p.num_tokens; c += kTokenChunk) {
    const int64_t c_end = c + kTokenChunk < p.num_tokens ? c + kTokenChunk : p.num_tokens;
    int64_t t = c;
    for (; t + kTokens <= c_end; t += kTokens) token_tile_over_rows<F, kTokens, kRows>(p, t, row_begin, row_end);
    switch (c_end - t) {
      case 3: if constexpr (kTokens > 3) token_tile_over_rows<F, 3, kRows>(p, t, row_begin, row_end); break;
      case 2: if constexpr (kTokens > 2) token_tile_over_rows<F, 2, kRows>(p, t, row_begin, row_end); break;
      case 1: if constexpr (kTokens > 1) token_tile_over_rows<F, 1, kRows>(p, t, row_begin, row_end); break;
      default: break;
    }
  }
}

template <typename F>
void rows_for_batch(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end) {
  // One token: several rows in flight so weight streams overlap. More tokens: a 4×4 tile reuses
  // every decoded weight step four times and every activation step four times.
  if (p.num_tokens == 1) {
    rows<F, 1, 4>(p, row_begin, row_end);
  } else {
    rows<F, 4, 4>(p, row_begin, row_end);
  }
}

}  // namespace

void qgemm_rows_avx512_vnni(const QuantGemmProblem& p, int64_t row_begin, int64_t row_end) {
  switch (p.format) {
    case QuantFormat::kQ8_0:
    case QuantFormat::kQ4_0:
    case QuantFormat::kQ4_K: qgemm_rows16_avx512_vnni(p, row_begin, row_end); break;
    case QuantFormat::kQ6_K: rows_for_batch<Q6_K>(p, row_begin, row_end); break;
  }
}

}  // namespace tgi::kernels::qgemm
