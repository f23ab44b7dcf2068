#include "kernels/cpu/matmul.h"

#include <immintrin.h>

namespace tgi::kernels {
namespace {

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p, WeightFormat format) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if (format == WeightFormat::kF16) return _mm256_cvtph_ps(raw);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(raw), 16));
}

inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  return _mm_cvtss_f32(lo);
}

inline float scalar_weight(const std::byte* row, int64_t k, WeightFormat format) {
  switch (format) {
    case WeightFormat::kF32: return reinterpret_cast<const float*>(row)[k];
    case WeightFormat::kF16: return _cvtsh_ss(reinterpret_cast<const uint16_t*>(row)[k]);
    case WeightFormat::kBF16: {
      const uint32_t bits = static_cast<uint32_t>(reinterpret_cast<const uint16_t*>(row)[k]) << 16;
      float f;
      __builtin_memcpy(&f, &bits, sizeof f);
      return f;
    }
  }
  return 0.0f;
}

// Up to kTile tokens share each widened 8-wide weight chunk. Each token owns one accumulator
// and sees the same FMA order for any tile size (batch invariance).
constexpr int kTile = 4;

template <WeightFormat kFormat>
void rows_kernel(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w, const float* bias,
                 float* y, int64_t y_stride, int64_t row_begin, int64_t row_end) {
  const int64_t cols = w.cols, vec_cols = cols - cols % 8;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const std::byte* row = w.row(r);
    for (int64_t t0 = 0; t0 < num_tokens; t0 += kTile) {
      const int tile = static_cast<int>(num_tokens - t0 < kTile ? num_tokens - t0 : kTile);
      __m256 acc[kTile];
      for (int i = 0; i < kTile; ++i) acc[i] = _mm256_setzero_ps();
      for (int64_t k = 0; k < vec_cols; k += 8) {
        __m256 wv;
        if constexpr (kFormat == WeightFormat::kF32) {
          wv = load8(reinterpret_cast<const float*>(row) + k);
        } else {
          wv = load8(reinterpret_cast<const uint16_t*>(row) + k, kFormat);
        }
        for (int i = 0; i < tile; ++i) acc[i] = _mm256_fmadd_ps(load8(x + (t0 + i) * x_stride + k), wv, acc[i]);
      }
      for (int i = 0; i < tile; ++i) {
        float sum = hsum(acc[i]);
        const float* xt = x + (t0 + i) * x_stride;
        for (int64_t k = vec_cols; k < cols; ++k) sum += xt[k] * scalar_weight(row, k, kFormat);
        if (bias) sum += bias[r];
        y[(t0 + i) * y_stride + r] = sum;
      }
    }
  }
}

}  // namespace

void matmul(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w, const float* bias, float* y,
            int64_t y_stride, ThreadPool& pool) {
  if (num_tokens <= 0 || w.rows <= 0) return;
  // Small chunks of rows per thread keep the split even; each call is one parallel region.
  pool.parallel_for(w.rows, [&](int64_t begin, int64_t end) {
    switch (w.format) {
      case WeightFormat::kF32:
        rows_kernel<WeightFormat::kF32>(x, num_tokens, x_stride, w, bias, y, y_stride, begin, end);
        break;
      case WeightFormat::kBF16:
        rows_kernel<WeightFormat::kBF16>(x, num_tokens, x_stride, w, bias, y, y_stride, begin, end);
        break;
      case WeightFormat::kF16:
        rows_kernel<WeightFormat::kF16>(x, num_tokens, x_stride, w, bias, y, y_stride, begin, end);
        break;
    }
  });
}

}  // namespace tgi::kernels
