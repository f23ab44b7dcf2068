// AVX-512 matmul kernels. This file alone is compiled for AVX-512 (target pragma below); it is
// only called after cpu_isa.cpp confirmed the CPU has it. It includes nothing but intrinsics and
// the plain-data problem header, so no AVX-512 copy of a shared inline function can leak out.
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq")
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

template <ElementType kType>
inline __m512 load_weights(const std::byte* row, int64_t k) {
  if constexpr (kType == ElementType::kF32) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + k);
  } else {
    const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(reinterpret_cast<const uint16_t*>(row) + k));
    if constexpr (kType == ElementType::kF16) return _mm512_cvtph_ps(raw);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
  }
}

template <ElementType kType>
inline __m512 load_weights_masked(const std::byte* row, int64_t k, __mmask16 mask) {
  if constexpr (kType == ElementType::kF32) {
    return _mm512_maskz_loadu_ps(mask, reinterpret_cast<const float*>(row) + k);
  } else {
    const __m256i raw = _mm256_maskz_loadu_epi16(mask, reinterpret_cast<const uint16_t*>(row) + k);
    if constexpr (kType == ElementType::kF16) return _mm512_cvtph_ps(raw);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
  }
}

// One register tile: kTokens activation rows × kRows weight rows, each output one 16-lane
// accumulator over k. The weights loaded for a k step are reused by every token of the tile.
template <ElementType kType, int kTokens, int kRows>
inline void tile(const GemmProblem& p, int64_t t0, int64_t r0) {
  __m512 acc[kTokens][kRows];
  for (int i = 0; i < kTokens; ++i)
    for (int j = 0; j < kRows; ++j) acc[i][j] = _mm512_setzero_ps();
  const std::byte* w[kRows];
  for (int j = 0; j < kRows; ++j) w[j] = p.w + (r0 + j) * p.w_row_stride;
  const float* x[kTokens];
  for (int i = 0; i < kTokens; ++i) x[i] = p.x + (t0 + i) * p.x_stride;

  const int64_t cols = p.cols, vec_cols = cols & ~int64_t{15};
  for (int64_t k = 0; k < vec_cols; k += 16) {
    __m512 wv[kRows];
    for (int j = 0; j < kRows; ++j) wv[j] = load_weights<kType>(w[j], k);
    for (int i = 0; i < kTokens; ++i) {
      const __m512 xv = _mm512_loadu_ps(x[i] + k);
      for (int j = 0; j < kRows; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  if (vec_cols < cols) {
    const auto mask = static_cast<__mmask16>((1u << (cols - vec_cols)) - 1);
    __m512 wv[kRows];
    for (int j = 0; j < kRows; ++j) wv[j] = load_weights_masked<kType>(w[j], vec_cols, mask);
    for (int i = 0; i < kTokens; ++i) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x[i] + vec_cols);
      for (int j = 0; j < kRows; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
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

// One token, kRows rows: tile<kType, 1, kRows>'s arithmetic, with the rows' bytes asked for ahead.
// A decode step streams each weight once, 8 rows (8 streams) at a time, and a row of a
// 2048-wide bf16 matrix is one 4 KiB page, where the hardware prefetchers stop: each tile
// started its 8 streams cold. The prefetch runs kAheadBytes into each row and on into the next
// tile's rows (next_r0; past the matrix's end it touches memory it never reads: prefetches never
// fault). Cold 5632x2048 bf16 GEMV, 2 threads, share of the read bandwidth sampled beside it:
// 85-87% -> 105-112% (non-temporal; 512 B ahead 105%, 1 KiB 110%, 2 KiB 106%).
template <ElementType kType, int kRows>
inline void gemv_tile(const GemmProblem& p, int64_t r0, int64_t next_r0) {
  constexpr int64_t kElementBytes = kType == ElementType::kF32 ? 4 : 2;
  constexpr int64_t kLineElements = 64 / kElementBytes, kAheadBytes = 1024;
  __m512 acc[kRows];
  for (int j = 0; j < kRows; ++j) acc[j] = _mm512_setzero_ps();
  const std::byte* w[kRows];
  const std::byte* next[kRows];
  for (int j = 0; j < kRows; ++j) {
    w[j] = p.w + (r0 + j) * p.w_row_stride;
    next[j] = p.w + (next_r0 + j) * p.w_row_stride;
  }
  const int64_t cols = p.cols, row_bytes = cols * kElementBytes, line_cols = cols & ~(kLineElements - 1);
  int64_t k = 0;
  for (; k < line_cols; k += kLineElements) {
    const int64_t ahead = k * kElementBytes + kAheadBytes;
    for (int j = 0; j < kRows; ++j)
      _mm_prefetch(
          reinterpret_cast<const char*>(ahead < row_bytes ? w[j] + ahead : next[j] + (ahead - row_bytes)),
          _MM_HINT_NTA);
    for (int64_t h = 0; h < kLineElements; h += 16) {
      const __m512 xv = _mm512_loadu_ps(p.x + k + h);
      for (int j = 0; j < kRows; ++j) acc[j] = _mm512_fmadd_ps(xv, load_weights<kType>(w[j], k + h), acc[j]);
    }
  }
  for (; k + 16 <= cols; k += 16) {
    const __m512 xv = _mm512_loadu_ps(p.x + k);
    for (int j = 0; j < kRows; ++j) acc[j] = _mm512_fmadd_ps(xv, load_weights<kType>(w[j], k), acc[j]);
  }
  if (k < cols) {
    const auto mask = static_cast<__mmask16>((1u << (cols - k)) - 1);
    const __m512 xv = _mm512_maskz_loadu_ps(mask, p.x + k);
    for (int j = 0; j < kRows; ++j)
      acc[j] = _mm512_fmadd_ps(xv, load_weights_masked<kType>(w[j], k, mask), acc[j]);
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

template <ElementType kType, int kTokens, int kRows>
void rows(const GemmProblem& p, int64_t row_begin, int64_t row_end) {
  auto tile_at = [&p]<int kT, int kR>(int64_t t, int64_t r) { tile<kType, kT, kR>(p, t, r); };
  for (int64_t g = row_begin; g < row_end; g += kGroupRows) {
    const int64_t g_end = g + kGroupRows < row_end ? g + kGroupRows : row_end;
    tile_tokens_and_rows<kTokens, kRows>(tile_at, 0, p.num_tokens, g, g_end);
  }
}

template <ElementType kType>
void rows_for_batch(const GemmProblem& p, int64_t row_begin, int64_t row_end) {
  // One token: 8 independent accumulators hide FMA latency while weights stream from memory.
  // More tokens: a 4×6 tile (24 accumulators) reuses every weight load four times.
  if (p.num_tokens == 1) {
    int64_t r = row_begin;
    for (; r + 8 <= row_end; r += 8) gemv_tile<kType, 8>(p, r, r + 8);
    for (; r < row_end; ++r) gemv_tile<kType, 1>(p, r, r + 1);
  } else {
    rows<kType, 4, 6>(p, row_begin, row_end);
  }
}

}  // namespace

void gemm_rows_avx512(const GemmProblem& p, int64_t row_begin, int64_t row_end) {
  switch (p.type) {
    case ElementType::kF32: rows_for_batch<ElementType::kF32>(p, row_begin, row_end); break;
    case ElementType::kBF16: rows_for_batch<ElementType::kBF16>(p, row_begin, row_end); break;
    case ElementType::kF16: rows_for_batch<ElementType::kF16>(p, row_begin, row_end); break;
  }
}

}  // namespace tgi::kernels::gemm
