// AVX2+FMA+F16C matmul kernels (the build's baseline ISA), for CPUs without AVX-512. Same tiling
// idea as gemm_avx512.cpp with 8-lane registers; the 16-register file limits the tile size.
#include <immintrin.h>

#include "kernels/cpu/gemm/gemm_problem.h"
#include "kernels/cpu/gemm/tile_schedule.h"

namespace tgi::kernels::gemm {
namespace {

template <ElementType kType>
inline __m256 load_weights(const std::byte* row, int64_t k) {
  if constexpr (kType == ElementType::kF32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k);
  } else {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint16_t*>(row) + k));
    if constexpr (kType == ElementType::kF16) return _mm256_cvtph_ps(raw);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
  }
}

// The last cols % 8 elements, zero-padded (so the padded lanes add 0 · 0).
template <ElementType kType>
inline __m256 load_weights_partial(const std::byte* row, int64_t k, int count) {
  if constexpr (kType == ElementType::kF32) {
    alignas(32) float buf[8] = {};
    for (int i = 0; i < count; ++i) buf[i] = reinterpret_cast<const float*>(row)[k + i];
    return _mm256_load_ps(buf);
  } else {
    alignas(16) uint16_t buf[8] = {};
    for (int i = 0; i < count; ++i) buf[i] = reinterpret_cast<const uint16_t*>(row)[k + i];
    const __m128i raw = _mm_load_si128(reinterpret_cast<const __m128i*>(buf));
    if constexpr (kType == ElementType::kF16) return _mm256_cvtph_ps(raw);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
  }
}

inline __m256 load_partial(const float* x, int count) {
  alignas(32) float buf[8] = {};
  for (int i = 0; i < count; ++i) buf[i] = x[i];
  return _mm256_load_ps(buf);
}

inline float reduce(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  return _mm_cvtss_f32(lo);
}

template <ElementType kType, int kTokens, int kRows>
inline void tile(const GemmProblem& p, int64_t t0, int64_t r0) {
  __m256 acc[kTokens][kRows];
  for (int i = 0; i < kTokens; ++i)
    for (int j = 0; j < kRows; ++j) acc[i][j] = _mm256_setzero_ps();
  const std::byte* w[kRows];
  for (int j = 0; j < kRows; ++j) w[j] = p.w + (r0 + j) * p.w_row_stride;
  const float* x[kTokens];
  for (int i = 0; i < kTokens; ++i) x[i] = p.x + (t0 + i) * p.x_stride;

  const int64_t cols = p.cols, vec_cols = cols & ~int64_t{7};
  for (int64_t k = 0; k < vec_cols; k += 8) {
    __m256 wv[kRows];
    for (int j = 0; j < kRows; ++j) wv[j] = load_weights<kType>(w[j], k);
    for (int i = 0; i < kTokens; ++i) {
      const __m256 xv = _mm256_loadu_ps(x[i] + k);
      for (int j = 0; j < kRows; ++j) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  if (vec_cols < cols) {
    const int count = static_cast<int>(cols - vec_cols);
    __m256 wv[kRows];
    for (int j = 0; j < kRows; ++j) wv[j] = load_weights_partial<kType>(w[j], vec_cols, count);
    for (int i = 0; i < kTokens; ++i) {
      const __m256 xv = load_partial(x[i] + vec_cols, count);
      for (int j = 0; j < kRows; ++j) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
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

// One token, kRows rows: tile<kType, 1, kRows>'s arithmetic, with the rows' bytes asked for 1 KiB
// ahead, on into the next tile's rows (next_r0): see gemv_tile in gemm_avx512.cpp.
template <ElementType kType, int kRows>
inline void gemv_tile(const GemmProblem& p, int64_t r0, int64_t next_r0) {
  constexpr int64_t kElementBytes = kType == ElementType::kF32 ? 4 : 2;
  constexpr int64_t kLineElements = 64 / kElementBytes, kAheadBytes = 1024;
  __m256 acc[kRows];
  for (int j = 0; j < kRows; ++j) acc[j] = _mm256_setzero_ps();
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
    for (int64_t h = 0; h < kLineElements; h += 8) {
      const __m256 xv = _mm256_loadu_ps(p.x + k + h);
      for (int j = 0; j < kRows; ++j) acc[j] = _mm256_fmadd_ps(xv, load_weights<kType>(w[j], k + h), acc[j]);
    }
  }
  for (; k + 8 <= cols; k += 8) {
    const __m256 xv = _mm256_loadu_ps(p.x + k);
    for (int j = 0; j < kRows; ++j) acc[j] = _mm256_fmadd_ps(xv, load_weights<kType>(w[j], k), acc[j]);
  }
  if (k < cols) {
    const int count = static_cast<int>(cols - k);
    const __m256 xv = load_partial(p.x + k, count);
    for (int j = 0; j < kRows; ++j)
      acc[j] = _mm256_fmadd_ps(xv, load_weights_partial<kType>(w[j], k, count), acc[j]);
  }
  for (int j = 0; j < kRows; ++j) {
    float sum = reduce(acc[j]);
    if (p.bias) sum += p.bias[r0 + j];
    p.y[r0 + j] = sum;
  }
}

// Rows in L2-sized groups; each token tile meets every row block of a group before the next
// tile, so activations are read once per group (see gemm_avx512.cpp).
constexpr int64_t kGroupRows = 40;

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
  if (p.num_tokens == 1) {
    int64_t r = row_begin;
    for (; r + 6 <= row_end; r += 6) gemv_tile<kType, 6>(p, r, r + 6);
    for (; r < row_end; ++r) gemv_tile<kType, 1>(p, r, r + 1);
  } else {
    rows<kType, 2, 5>(p, row_begin, row_end);
  }
}

}  // namespace

void gemm_rows_avx2(const GemmProblem& p, int64_t row_begin, int64_t row_end) {
  switch (p.type) {
    case ElementType::kF32: rows_for_batch<ElementType::kF32>(p, row_begin, row_end); break;
    case ElementType::kBF16: rows_for_batch<ElementType::kBF16>(p, row_begin, row_end); break;
    case ElementType::kF16: rows_for_batch<ElementType::kF16>(p, row_begin, row_end); break;
  }
}

}  // namespace tgi::kernels::gemm
