#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <immintrin.h>

namespace tgi::kernels {
namespace {

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

float horizontal_sum(__m256 acc) {
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  return _mm_cvtss_f32(lo);
}

// q · k for stored k (int8: before its scale).
template <KvDtype D>
float dot(const float* q, const std::byte* k, int64_t n) {
  constexpr auto kBytes = static_cast<int64_t>(kv_element_bytes(D));
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8<D>(k + i * kBytes), acc);
  float sum = horizontal_sum(acc);
  for (; i < n; ++i) sum += q[i] * load1<D>(k, i);
  return sum;
}

// acc += p · v for stored v.
template <KvDtype D>
void accumulate(float p, const std::byte* v, int64_t n, float* acc) {
  constexpr auto kBytes = static_cast<int64_t>(kv_element_bytes(D));
  const __m256 weight = _mm256_set1_ps(p);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(acc + i, _mm256_fmadd_ps(weight, load8<D>(v + i * kBytes), _mm256_loadu_ps(acc + i)));
  for (; i < n; ++i) acc[i] += p * load1<D>(v, i);
}

template <KvDtype D>
void attend_one(const float* q, const AttentionSequence& seq, int64_t row_in_seq, int32_t head, const PagedKvLayer& kv,
                const AttentionShape& s, float* out) {
  constexpr auto kBytes = static_cast<int64_t>(kv_element_bytes(D));
  const int64_t pos = seq.context_len + row_in_seq;
  int64_t first = 0;
  if (s.sliding_window > 0) first = std::max<int64_t>(0, pos - s.sliding_window + 1);
  if (s.chunk_size > 0) first = std::max(first, pos / s.chunk_size * s.chunk_size);
  const int32_t kv_head = head / (s.num_heads / s.num_kv_heads);
  const int64_t k_token_stride = kv.k_token_stride > 0 ? kv.k_token_stride : int64_t{s.num_kv_heads} * s.head_dim;
  const int64_t v_token_stride = kv.v_token_stride > 0 ? kv.v_token_stride : int64_t{s.num_kv_heads} * s.v_head_dim;

  float acc[kMaxAttentionHeadDim];
  std::fill(acc, acc + s.v_head_dim, 0.0f);
  float running_max = -std::numeric_limits<float>::infinity();
  float denom = 0.0f;
  for (int64_t j = first; j <= pos; ++j) {
    const int64_t slot = int64_t{seq.block_table[j / kv.block_size]} * kv.block_size + j % kv.block_size;
    const std::byte* k = kv.k + (slot * k_token_stride + int64_t{kv_head} * s.head_dim) * kBytes;
    float score = dot<D>(q, k, s.head_dim);
    if constexpr (D == KvDtype::kInt8) score *= kv.k_scales[slot * s.num_kv_heads + kv_head];
    score *= s.scale;
    if (s.softcap > 0.0f) score = s.softcap * std::tanh(score / s.softcap);
    const std::byte* v = kv.v + (slot * v_token_stride + int64_t{kv_head} * s.v_head_dim) * kBytes;
    if (score > running_max) {
      const float correction = std::exp(running_max - score);  // 0 on the first key
      denom *= correction;
      for (int32_t d = 0; d < s.v_head_dim; ++d) acc[d] *= correction;
      running_max = score;
    }
    const float p = std::exp(score - running_max);
    denom += p;
    if constexpr (D == KvDtype::kInt8) {
      accumulate<D>(p * kv.v_scales[slot * s.num_kv_heads + kv_head], v, s.v_head_dim, acc);
    } else {
      accumulate<D>(p, v, s.v_head_dim, acc);
    }
  }
  if (s.sinks != nullptr) {
    // The sink takes probability mass but contributes no value.
    const float sink = s.sinks[head];
    const float m = std::max(running_max, sink);
    const float correction = std::exp(running_max - m);
    denom = denom * correction + std::exp(sink - m);
    for (int32_t d = 0; d < s.v_head_dim; ++d) acc[d] *= correction;
  }
  const float inv = 1.0f / denom;
  for (int32_t d = 0; d < s.v_head_dim; ++d) out[d] = acc[d] * inv;
}

template <KvDtype D>
void attend_range(const float* q, int64_t q_stride, std::span<const AttentionSequence> sequences,
                  const int32_t* row_sequence, const PagedKvLayer& kv, const AttentionShape& shape, float* out,
                  int64_t out_stride, int64_t begin, int64_t end) {
  for (int64_t item = begin; item < end; ++item) {
    const int64_t row = item / shape.num_heads;
    const auto head = static_cast<int32_t>(item % shape.num_heads);
    const AttentionSequence& seq = sequences[row_sequence[row]];
    attend_one<D>(q + row * q_stride + int64_t{head} * shape.head_dim, seq, row - seq.query_start, head, kv, shape,
                  out + row * out_stride + int64_t{head} * shape.v_head_dim);
  }
}

}  // namespace

void paged_attention(const float* q, int64_t q_stride, std::span<const AttentionSequence> sequences,
                     const int32_t* row_sequence, int64_t num_rows, const PagedKvLayer& kv, const AttentionShape& shape,
                     float* out, int64_t out_stride, ThreadPool& pool) {
  const int64_t items = num_rows * shape.num_heads;
  pool.parallel_for(items, [&](int64_t begin, int64_t end) {
    switch (kv.dtype) {
      case KvDtype::kF32: attend_range<KvDtype::kF32>(q, q_stride, sequences, row_sequence, kv, shape, out, out_stride, begin, end); break;
      case KvDtype::kBF16: attend_range<KvDtype::kBF16>(q, q_stride, sequences, row_sequence, kv, shape, out, out_stride, begin, end); break;
      case KvDtype::kF16: attend_range<KvDtype::kF16>(q, q_stride, sequences, row_sequence, kv, shape, out, out_stride, begin, end); break;
      case KvDtype::kInt8: attend_range<KvDtype::kInt8>(q, q_stride, sequences, row_sequence, kv, shape, out, out_stride, begin, end); break;
    }
  });
}

}  // namespace tgi::kernels
