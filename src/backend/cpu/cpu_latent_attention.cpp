// Multi-head latent attention on the CPU, with the up-projection absorbed: per head, q_nope is
// mapped into the latent space (W_kb^T q_nope), so scores and the weighted sum run directly over
// the cached [latent, k_rope] rows (one "KV head" shared by all heads); W_vb then lifts the result
// per head.
#include <cstring>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/paged_kv_cache.h"
#include "core/scratch.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/rope.h"

namespace tgi::backend::cpu {

void CpuBackend::latent_attention(const LatentAttentionOp& op, KvCache& cache_base) {
  PagedKvCache& cache = paged(cache_base);
  const int64_t T = static_cast<int64_t>(step_.row_slot.size()), nh = op.num_heads;
  const int64_t nope = op.nope_dim, rope = op.rope_dim, qk = nope + rope;
  const int64_t rank = op.kv_lora_rank, vd = op.v_head_dim, latent_width = rank + rope;
  const float* x = op.x;
  float* q = grow(mla_q_, T * nh * qk);
  if (op.q_a.present()) {
    const int64_t q_rank = op.q_lora_rank;
    float* qa = grow(mla_qa_, T * q_rank);
    kernels::matmul(x, T, *op.q_a.weight, op.q_a.bias, qa, pool_);
    for (int64_t t = 0; t < T; ++t)
      kernels::rms_norm(qa + t * q_rank, op.q_a_norm.weight, q_rank, op.q_a_norm.eps, false, qa + t * q_rank);
    kernels::matmul(qa, T, *op.q_b.weight, nullptr, q, pool_);
  } else {
    kernels::matmul(x, T, *op.q.weight, nullptr, q, pool_);
  }
  float* kv = grow(mla_kv_, T * latent_width);
  kernels::matmul(x, T, *op.kv_a.weight, op.kv_a.bias, kv, pool_);
  float* query = grow(mla_query_, T * nh * latent_width);
  const int64_t half = step_.rope_half;
  const float* cos = step_.cos_full.data();
  const float* sin = step_.sin_full.data();
  for (int64_t t = 0; t < T; ++t) {
    float* latent = kv + t * latent_width;
    kernels::rms_norm(latent, op.kv_a_norm.weight, rank, op.kv_a_norm.eps, false, latent);
    kernels::apply_rope(latent + rank, 1, rope, rope, cos + t * half, sin + t * half, op.rope_interleaved);
    cache.store_k(op.cache_layer, step_.row_slot[t], latent);
    for (int64_t h = 0; h < nh; ++h) {
      float* qh = q + (t * nh + h) * qk;
      kernels::apply_rope(qh + nope, 1, rope, rope, cos + t * half, sin + t * half, op.rope_interleaved);
      float* dst = query + (t * nh + h) * latent_width;
      const float* w_k = op.kv_b + h * (nope + vd) * rank;  // rows of this head's k_nope
      for (int64_t r = 0; r < rank; ++r) {
        float acc = 0.0f;
        for (int64_t d = 0; d < nope; ++d) acc += qh[d] * w_k[d * rank + r];
        dst[r] = acc;
      }
      std::memcpy(dst + rank, qh + nope, rope * sizeof(float));
    }
  }
  kernels::AttentionShape shape;
  shape.num_heads = static_cast<int32_t>(nh);
  shape.num_kv_heads = 1;
  shape.head_dim = static_cast<int32_t>(latent_width);
  shape.v_head_dim = static_cast<int32_t>(rank);
  shape.scale = op.scale;
  const kernels::PagedKvLayer kvl = cache.latent_layer(op.cache_layer);
  float* o_latent = grow(mla_olat_, T * nh * rank);
  kernels::paged_attention(query, nh * latent_width, sequences_, step_.row_sequence.data(), T, kvl, shape,
                           o_latent, nh * rank, pool_);
  float* values = grow(mla_values_, T * nh * vd);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < nh; ++h) {
      const float* o = o_latent + (t * nh + h) * rank;
      const float* w_v = op.kv_b + (h * (nope + vd) + nope) * rank;  // rows of this head's values
      for (int64_t d = 0; d < vd; ++d) {
        float acc = 0.0f;
        for (int64_t r = 0; r < rank; ++r) acc += w_v[d * rank + r] * o[r];
        values[(t * nh + h) * vd + d] = acc;
      }
    }
  kernels::matmul(values, T, *op.o.weight, op.o.bias, op.out, pool_);
}

}  // namespace tgi::backend::cpu
