#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <immintrin.h>

namespace tgi::kernels {
namespace {

float dot(const float* a, const float* b, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  __m128 lo = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  float sum = _mm_cvtss_f32(lo);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void attend_one(const float* q, const AttentionSequence& seq, int64_t row_in_seq, int32_t head, const PagedKvLayer& kv,
                const AttentionShape& s, float* out) {
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
    const float* k = kv.k + slot * k_token_stride + int64_t{kv_head} * s.head_dim;
    float score = dot(q, k, s.head_dim) * s.scale;
    if (s.softcap > 0.0f) score = s.softcap * std::tanh(score / s.softcap);
    const float* v = kv.v + slot * v_token_stride + int64_t{kv_head} * s.v_head_dim;
    if (score > running_max) {
      const float correction = std::exp(running_max - score);  // 0 on the first key
      denom *= correction;
      for (int32_t d = 0; d < s.v_head_dim; ++d) acc[d] *= correction;
      running_max = score;
    }
    const float p = std::exp(score - running_max);
    denom += p;
    for (int32_t d = 0; d < s.v_head_dim; ++d) acc[d] += p * v[d];
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

}  // namespace

void paged_attention(const float* q, int64_t q_stride, std::span<const AttentionSequence> sequences,
                     const int32_t* row_sequence, int64_t num_rows, const PagedKvLayer& kv, const AttentionShape& shape,
                     float* out, int64_t out_stride, ThreadPool& pool) {
  const int64_t items = num_rows * shape.num_heads;
  pool.parallel_for(items, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      const int64_t row = item / shape.num_heads;
      const auto head = static_cast<int32_t>(item % shape.num_heads);
      const AttentionSequence& seq = sequences[row_sequence[row]];
      attend_one(q + row * q_stride + int64_t{head} * shape.head_dim, seq, row - seq.query_start, head, kv, shape,
                 out + row * out_stride + int64_t{head} * shape.v_head_dim);
    }
  });
}

}  // namespace tgi::kernels
