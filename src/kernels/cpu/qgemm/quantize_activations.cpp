// Activation rows -> int8 blocks of 32 (one f32 scale each), as the int8 kernels consume them.
// Baseline AVX2: both kernel ISAs read the same quantized rows.
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/norm.h"
#include "kernels/cpu/qgemm/qgemm_problem.h"

namespace tgi::kernels::qgemm {
namespace {

inline int32_t horizontal_sum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

inline float horizontal_max(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

void quantize_block(const float* x, int8_t* q, float* scale, float* scaled_sum, int32_t* q_sum, int32_t* half_sum) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int i = 0; i < 4; ++i) {
    v[i] = _mm256_loadu_ps(x + 8 * i);
    amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign_bit, v[i]));
  }
  const float max_abs = horizontal_max(amax);
  const float d = max_abs / 127.0f;
  const float inverse = d != 0.0f ? 1.0f / d : 0.0f;
  const __m256 mul = _mm256_set1_ps(inverse);
  __m256i qi[4];
  for (int i = 0; i < 4; ++i) qi[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], mul));  // nearest even
  const int32_t first_half = horizontal_sum(_mm256_add_epi32(qi[0], qi[1]));
  const int32_t second_half = horizontal_sum(_mm256_add_epi32(qi[2], qi[3]));
  const int32_t sum = first_half + second_half;
  // packs interleave 128-bit lanes; the permute restores element order.
  const __m256i lo = _mm256_packs_epi32(qi[0], qi[1]);
  const __m256i hi = _mm256_packs_epi32(qi[2], qi[3]);
  __m256i bytes = _mm256_packs_epi16(lo, hi);
  bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), bytes);
  *scale = d;
  *scaled_sum = d * static_cast<float>(sum);
  *q_sum = sum;
  half_sum[0] = first_half;
  half_sum[1] = second_half;
}

// Blocks past the row's last (padding to a multiple of 64 elements): zero codes, zero scale.
void zero_padding_blocks(const QuantizedActivations& out, int64_t t, int64_t first_block) {
  int8_t* q = out.q + t * out.q_stride;
  float* scale = out.scale + t * out.scale_stride;
  float* scaled_sum = out.scaled_sum + t * out.scale_stride;
  int32_t* sum = out.sum + t * out.scale_stride;
  int32_t* half_sum = out.half_sum + 2 * t * out.scale_stride;
  for (int64_t b = first_block; b < out.scale_stride; ++b) {
    std::memset(q + 32 * b, 0, 32);
    scale[b] = 0.0f;
    scaled_sum[b] = 0.0f;
    sum[b] = 0;
    half_sum[2 * b] = half_sum[2 * b + 1] = 0;
  }
}

// Block b of row t: the 32 floats at `x` into the row's quantized form.
inline void quantize_block_of_row(const float* x, const QuantizedActivations& out, int64_t t, int64_t b) {
  const int64_t at = t * out.scale_stride + b;
  quantize_block(x, out.q + t * out.q_stride + 32 * b, out.scale + at, out.scaled_sum + at, out.sum + at,
                 out.half_sum + 2 * at);
}

}  // namespace

void quantize_activation_rows(const float* x, int64_t x_stride, int64_t cols, const QuantizedActivations& out,
                              int64_t row_begin, int64_t row_end) {
  const int64_t blocks = cols / 32;
  for (int64_t t = row_begin; t < row_end; ++t) {
    const float* row = x + t * x_stride;
    for (int64_t b = 0; b < blocks; ++b) quantize_block_of_row(row + 32 * b, out, t, b);
    zero_padding_blocks(out, t, blocks);
  }
}

void quantize_normalized_rows(const float* x, int64_t x_stride, int64_t cols, const float* weight, float eps,
                              bool one_plus, const QuantizedActivations& out, int64_t row_begin,
                              int64_t row_end) {
  const int64_t blocks = cols / 32;
  for (int64_t t = row_begin; t < row_end; ++t) {
    const float* row = x + t * x_stride;
    const float factor = rms_norm_factor(row, cols, eps);
    alignas(32) float normed[32];
    for (int64_t b = 0; b < blocks; ++b) {
      rms_norm_apply(row + 32 * b, weight == nullptr ? nullptr : weight + 32 * b, 32, factor, one_plus,
                     normed);
      quantize_block_of_row(normed, out, t, b);
    }
    zero_padding_blocks(out, t, blocks);
  }
}

}  // namespace tgi::kernels::qgemm
