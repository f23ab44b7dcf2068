// bf16 × bf16 → f32 matmul with AVX-512-BF16 (vdpbf16ps: 32 products per instruction, twice the
// f32 FMA rate), for bf16 weights when activations are rounded to bf16 first (the precision
// transformers itself computes a bf16 model in). Compiled for AVX-512-BF16 alone, and only
// called after cpu_isa.cpp found it; includes nothing that could leak AVX-512 code elsewhere.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")
// gcc 12 flags its own AVX-512 intrinsics (their _mm512_undefined_* placeholders) as uninitialized.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/cpu/gemm/gemm_problem.h"
#include "kernels/cpu/gemm/tile_schedule.h"

namespace tgi::kernels::gemm {
namespace {

// Horizontal sum in a fixed order (gcc 12's _mm512_reduce_add_ps trips -Wuninitialized).
inline float reduce(__m512 v) {
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));  // + the other 256-bit half
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));  // + the neighbouring 128-bit lane
  __m128 s = _mm512_castps512_ps128(v);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

inline __m512bh load_bf16(const uint16_t* p) { return (__m512bh)_mm512_loadu_si512(p); }
inline __m512bh load_bf16_masked(const uint16_t* p, __mmask32 mask) {
  return (__m512bh)_mm512_maskz_loadu_epi16(mask, p);
}

template <int kTokens, int kRows>
inline void tile(const Bf16GemmProblem& p, int64_t t0, int64_t r0) {
  __m512 acc[kTokens][kRows];
  for (int i = 0; i < kTokens; ++i)
    for (int j = 0; j < kRows; ++j) acc[i][j] = _mm512_setzero_ps();
  const uint16_t* w[kRows];
  for (int j = 0; j < kRows; ++j) w[j] = reinterpret_cast<const uint16_t*>(p.w + (r0 + j) * p.w_row_stride);
  const uint16_t* x[kTokens];
  for (int i = 0; i < kTokens; ++i) x[i] = p.x + (t0 + i) * p.x_stride;

  const int64_t cols = p.cols, vec_cols = cols & ~int64_t{31};
  for (int64_t k = 0; k < vec_cols; k += 32) {
    __m512bh wv[kRows];
    for (int j = 0; j < kRows; ++j) wv[j] = load_bf16(w[j] + k);
    for (int i = 0; i < kTokens; ++i) {
      const __m512bh xv = load_bf16(x[i] + k);
      for (int j = 0; j < kRows; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xv, wv[j]);
    }
  }
  if (vec_cols < cols) {
    const auto mask = static_cast<__mmask32>((uint64_t{1} << (cols - vec_cols)) - 1);
    __m512bh wv[kRows];
    for (int j = 0; j < kRows; ++j) wv[j] = load_bf16_masked(w[j] + vec_cols, mask);
    for (int i = 0; i < kTokens; ++i) {
      const __m512bh xv = load_bf16_masked(x[i] + vec_cols, mask);
      for (int j = 0; j < kRows; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xv, wv[j]);
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

// One token, kRows rows: tile<1, kRows>'s arithmetic, with the rows' bytes asked for ahead, 1 KiB
// into each row and on into the next tile's rows (next_r0): see gemv_tile in gemm_avx512.cpp.
template <int kRows>
inline void gemv_tile(const Bf16GemmProblem& p, int64_t r0, int64_t next_r0) {
  constexpr int64_t kAheadBytes = 1024;
  __m512 acc[kRows];
  for (int j = 0; j < kRows; ++j) acc[j] = _mm512_setzero_ps();
  const uint16_t* w[kRows];
  const std::byte* next[kRows];
  for (int j = 0; j < kRows; ++j) {
    w[j] = reinterpret_cast<const uint16_t*>(p.w + (r0 + j) * p.w_row_stride);
    next[j] = p.w + (next_r0 + j) * p.w_row_stride;
  }
  const int64_t cols = p.cols, row_bytes = 2 * cols, vec_cols = cols & ~int64_t{31};
  for (int64_t k = 0; k < vec_cols; k += 32) {
    const int64_t ahead = 2 * k + kAheadBytes;
    for (int j = 0; j < kRows; ++j)
      _mm_prefetch(ahead < row_bytes ? reinterpret_cast<const char*>(w[j]) + ahead
                                     : reinterpret_cast<const char*>(next[j]) + (ahead - row_bytes),
                   _MM_HINT_NTA);
    const __m512bh xv = load_bf16(p.x + k);
    for (int j = 0; j < kRows; ++j) acc[j] = _mm512_dpbf16_ps(acc[j], xv, load_bf16(w[j] + k));
  }
  if (vec_cols < cols) {
    const auto mask = static_cast<__mmask32>((uint64_t{1} << (cols - vec_cols)) - 1);
    const __m512bh xv = load_bf16_masked(p.x + vec_cols, mask);
    for (int j = 0; j < kRows; ++j)
      acc[j] = _mm512_dpbf16_ps(acc[j], xv, load_bf16_masked(w[j] + vec_cols, mask));
  }
  for (int j = 0; j < kRows; ++j) {
    float sum = reduce(acc[j]);
    if (p.bias) sum += p.bias[r0 + j];
    p.y[r0 + j] = sum;
  }
}

// Rows are taken in groups that stay in L2 (48 rows); within a group every token tile is
// multiplied with every row block before the next token tile, so each activation tile is read
// from memory once per group rather than once per row block.
constexpr int64_t kGroupRows = 48;

template <int kTokens, int kRows>
void rows(const Bf16GemmProblem& p, int64_t row_begin, int64_t row_end) {
  auto tile_at = [&p]<int kT, int kR>(int64_t t, int64_t r) { tile<kT, kR>(p, t, r); };
  for (int64_t g = row_begin; g < row_end; g += kGroupRows) {
    const int64_t g_end = g + kGroupRows < row_end ? g + kGroupRows : row_end;
    tile_tokens_and_rows<kTokens, kRows>(tile_at, 0, p.num_tokens, g, g_end);
  }
}

}  // namespace

void round_rows_to_bf16_avx512(const float* x, int64_t x_stride, int64_t cols, uint16_t* out, int64_t out_stride,
                               int64_t row_begin, int64_t row_end) {
  for (int64_t t = row_begin; t < row_end; ++t) {
    const float* src = x + t * x_stride;
    uint16_t* dst = out + t * out_stride;
    int64_t k = 0;
    for (; k + 16 <= cols; k += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + k), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + k)));
    if (k < cols) {
      const auto mask = static_cast<__mmask16>((1u << (cols - k)) - 1);
      const __m256i packed = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, src + k));
      _mm256_mask_storeu_epi16(dst + k, mask, packed);
    }
  }
}

void gemm_rows_avx512_bf16(const Bf16GemmProblem& p, int64_t row_begin, int64_t row_end) {
  if (p.num_tokens == 1) {
    int64_t r = row_begin;
    for (; r + 8 <= row_end; r += 8) gemv_tile<8>(p, r, r + 8);
    for (; r < row_end; ++r) gemv_tile<1>(p, r, r + 1);
  } else {
    rows<4, 6>(p, row_begin, row_end);
  }
}

}  // namespace tgi::kernels::gemm
