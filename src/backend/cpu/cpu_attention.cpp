// The attention block's operations on the CPU: q/k/v projections with their per-row steps fused
// into the matmul's parallel region, and paged attention.
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/paged_kv_cache.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/rope.h"

namespace tgi::backend::cpu {

void CpuBackend::project_qkv(const QkvOp& op, KvCache& cache_base) {
  PagedKvCache& cache = paged(cache_base);
  const int64_t T = op.input.rows, hd = op.head_dim;
  const int64_t nh = op.num_heads, nkv = op.num_kv_heads;
  const int64_t q_width = nh * hd, kv_width = nkv * hd;
  const bool one_plus = op.qk_norm_one_plus;
  const float eps = op.eps;
  const bool sliding = op.rope_table == RopeTable::kSliding;
  const float* cos = (sliding ? step_.cos_sliding : step_.cos_full).data();
  const float* sin = (sliding ? step_.sin_sliding : step_.sin_full).data();
  const int64_t rot = op.rotary_dim, half = step_.rope_half;
  const bool uses_rope = op.rope && rot > 0;
  const bool temperature_tuned = op.temperature_floor_scale > 0.0;
  const int32_t cache_layer = op.cache_layer;
  const int64_t* row_slot = step_.row_slot.data();
  float* const q_out = op.q_out;
  float* const k_out = op.k_out;
  float* const v_out = op.v_out;
  // Heads [h0, h1) of token t's q or k row: the per-head q/k norm, then RoPE.
  const auto finish_heads = [&](float* row, int64_t h0, int64_t h1, const float* norm, int64_t t) {
    float* x = row + h0 * hd;
    if (op.qk_norm == QkNormKind::kPerHead)
      for (int64_t h = 0; h < h1 - h0; ++h)
        kernels::rms_norm(x + h * hd, norm, hd, eps, one_plus, x + h * hd);
    if (uses_rope)
      kernels::apply_rope(x, h1 - h0, hd, rot, cos + t * half, sin + t * half, op.rope_interleaved);
  };

  // Where every step is per head, each projection finishes the heads a thread has just computed
  // inside its own parallel region (norm and RoPE on q and k, then K and V appended to the cache)
  // while they are in that core's cache; whole-row steps (full-width q/k norms, llama4's NoPE
  // temperature and L2 norm) take a pass over the rows after the projection instead.
  const bool per_head_only =
      (op.qk_norm == QkNormKind::kNone || op.qk_norm == QkNormKind::kPerHead) && !temperature_tuned;
  const auto q_heads_done = [&](int64_t b, int64_t e) {
    for (int64_t t = 0; t < T; ++t) finish_heads(&q_out[t * q_width], b / hd, e / hd, op.q_norm, t);
  };
  const auto k_heads_done = [&](int64_t b, int64_t e) {
    for (int64_t t = 0; t < T; ++t) {
      finish_heads(&k_out[t * kv_width], b / hd, e / hd, op.k_norm, t);
      cache.store_k_heads(cache_layer, row_slot[t], &k_out[t * kv_width], static_cast<int32_t>(b / hd),
                          static_cast<int32_t>(e / hd));
    }
  };
  const auto v_heads_done = [&](int64_t b, int64_t e) {
    for (int64_t t = 0; t < T; ++t)
      cache.store_v_heads(cache_layer, row_slot[t], &v_out[t * kv_width], static_cast<int32_t>(b / hd),
                          static_cast<int32_t>(e / hd));
  };
  kernels::MatmulTarget qkv[] = {{op.q.weight, op.q.bias, q_out, op.q.rows()},
                                 {op.k.weight, op.k.bias, k_out, op.k.rows()},
                                 {op.v.weight, op.v.bias, v_out, op.v.rows()}};
  if (per_head_only) {
    // q's heads need nothing when there is neither a per-head norm nor RoPE (learned positions).
    if (op.qk_norm == QkNormKind::kPerHead || uses_rope)
      qkv[0].epilogue = kernels::row_epilogue(q_heads_done, hd);
    qkv[1].epilogue = kernels::row_epilogue(k_heads_done, hd);
    qkv[2].epilogue = kernels::row_epilogue(v_heads_done, hd);
  }
  project(op.input, qkv);
  if (per_head_only) return;

  // Rows are independent (each writes its own q/k and cache slot): a long prompt's rows are split
  // over the threads.
  const int32_t* positions = step_.positions.data();
  pool_.parallel_for(T, [&](int64_t row_begin, int64_t row_end) {
    for (int64_t t = row_begin; t < row_end; ++t) {
      float* q = &q_out[t * q_width];
      float* k = &k_out[t * kv_width];
      if (op.qk_norm == QkNormKind::kFullWidth) {
        kernels::rms_norm(q, op.q_norm, q_width, eps, one_plus, q);
        kernels::rms_norm(k, op.k_norm, kv_width, eps, one_plus, k);
      }
      finish_heads(q, 0, nh, op.q_norm, t);
      finish_heads(k, 0, nkv, op.k_norm, t);
      if (temperature_tuned) {
        // llama4 NoPE layers: sharpen attention logarithmically with position.
        const double pos = positions[t];
        const auto temp = static_cast<float>(
            std::log1p(std::floor((pos + 1.0) / op.temperature_floor_scale)) * op.temperature_attn_scale +
            1.0);
        for (int64_t i = 0; i < q_width; ++i) q[i] *= temp;
      }
      if (op.qk_norm == QkNormKind::kL2 && uses_rope) {  // llama4: after RoPE
        for (int64_t h = 0; h < nh; ++h) kernels::rms_norm(q + h * hd, nullptr, hd, eps, false, q + h * hd);
        for (int64_t h = 0; h < nkv; ++h) kernels::rms_norm(k + h * hd, nullptr, hd, eps, false, k + h * hd);
      }
      cache.store_k(cache_layer, row_slot[t], k);
      cache.store_v(cache_layer, row_slot[t], &v_out[t * kv_width]);
    }
  });
}

void CpuBackend::attention(const AttentionOp& op, const KvCache& cache) {
  kernels::AttentionShape shape;
  shape.num_heads = op.num_heads;
  shape.num_kv_heads = op.num_kv_heads;
  shape.head_dim = op.head_dim;
  shape.v_head_dim = op.v_head_dim;
  shape.scale = op.scale;
  shape.softcap = op.softcap;
  shape.sinks = op.sinks;
  shape.sliding_window = op.sliding_window;
  shape.chunk_size = op.chunk_size;
  const kernels::PagedKvLayer kv = paged(cache).layer(op.cache_layer);
  const int64_t q_width = int64_t{op.num_heads} * op.head_dim;
  const int64_t out_width = int64_t{op.num_heads} * op.v_head_dim;
  kernels::paged_attention(op.q, q_width, sequences_, step_.row_sequence.data(),
                           static_cast<int64_t>(step_.row_sequence.size()), kv, shape, op.out, out_width,
                           pool_);
}

}  // namespace tgi::backend::cpu
