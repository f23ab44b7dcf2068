#pragma once
// Causal attention of a ragged batch over a paged KV cache (flash-style online softmax: one pass
// over the visible keys, no score matrix). K and V of the batch must already be in the cache.
#include <cstdint>
#include <span>

#include "kernels/cpu/kv_storage.h"
#include "kernels/cpu/thread_pool.h"

namespace tgi::kernels {

// One sequence of the batch, as the kernel needs it.
struct AttentionSequence {
  int32_t query_start = 0;  // first row in q / out
  int32_t query_len = 0;
  int32_t context_len = 0;  // row i sits at KV position context_len + i
  const int32_t* block_table = nullptr;
};

// One layer's cache: [num_blocks][block_size][num_kv_heads][head_dim] (K) and [.. v_head_dim] (V)
// elements of `dtype`; int8 adds one scale per token and KV head, [slot][num_kv_heads].
struct PagedKvLayer {
  const std::byte* k = nullptr;
  const std::byte* v = nullptr;
  int32_t block_size = 0;
  // Elements between consecutive tokens; 0: num_kv_heads * head_dim (resp. v_head_dim). MLA sets
  // v = k with the K stride: its values are the first v_head_dim dims of the cached latent.
  int64_t k_token_stride = 0;
  int64_t v_token_stride = 0;
  KvDtype dtype = KvDtype::kF32;
  const float* k_scales = nullptr;  // int8 only
  const float* v_scales = nullptr;
};

struct AttentionShape {
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t v_head_dim = 0;
  float scale = 1.0f;
  float softcap = 0.0f;           // 0: none
  int64_t sliding_window = 0;     // >0: a query sees the last `sliding_window` positions incl. itself
  int64_t chunk_size = 0;         // >0: a query sees only its own chunk of positions (llama4)
  const float* sinks = nullptr;   // [num_heads] sink logits (gpt_oss) or nullptr
};

constexpr int32_t kMaxAttentionHeadDim = 1024;

// q: rows of num_heads*head_dim floats (row stride q_stride); out: rows of num_heads*v_head_dim
// (stride out_stride). row_sequence[r] is the index into `sequences` of row r.
void paged_attention(const float* q, int64_t q_stride, std::span<const AttentionSequence> sequences,
                     const int32_t* row_sequence, int64_t num_rows, const PagedKvLayer& kv, const AttentionShape& shape,
                     float* out, int64_t out_stride, ThreadPool& pool);

}  // namespace tgi::kernels
