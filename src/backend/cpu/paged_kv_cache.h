#pragma once
// The paged KV cache of DESIGN.md: per layer, K and V in fixed-size blocks laid out
// [num_blocks][block_size][kv_heads][head_dim], stored as `--kv-cache-dtype` says (f32, bf16,
// f16, or int8 with a scale per token and head; kernels/cpu/kv_storage.h). A sequence is a block
// table: its token at position p lives in block table[p / block_size], slot p % block_size.
//
// The blocks are reserved, not touched: each layer's K and V are anonymous mappings whose pages
// appear when a token is first written there, so a large budget costs address space, not memory,
// until requests fill it (start-up never pays for zeroing gigabytes of cache).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "backend/cpu/page_buffer.h"
#include "backend/kv_cache.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/kv_storage.h"

namespace tgi::backend::cpu {

class PagedKvCache final : public KvCache {
 public:
  // Throws std::bad_alloc when the address space cannot be reserved.
  PagedKvCache(const KvCacheShape& shape, int32_t num_blocks, int32_t block_size,
               const Backend* allocator = nullptr);

  int32_t num_blocks() const override { return num_blocks_; }
  int32_t block_size() const override { return block_size_; }
  const KvCacheShape& shape() const override { return shape_; }
  int32_t num_layers() const { return static_cast<int32_t>(k_.size()); }
  kernels::KvDtype dtype() const { return dtype_; }

  // Writes one token's K (kv_heads × k_head_dim floats) or V into `slot` of `layer`.
  void store_k(int32_t layer, int64_t slot, const float* k);
  void store_v(int32_t layer, int64_t slot, const float* v);
  // The same for heads [head_begin, head_end) only, read from their place in the token's row:
  // a projection's epilogue appends the heads it has just finished.
  void store_k_heads(int32_t layer, int64_t slot, const float* k, int32_t head_begin, int32_t head_end);
  void store_v_heads(int32_t layer, int64_t slot, const float* v, int32_t head_begin, int32_t head_end);
  // What the attention kernel reads for `layer`.
  kernels::PagedKvLayer layer(int32_t layer) const;
  // MLA: V is the first v_head_dim dims of the cached K latent (one "head").
  kernels::PagedKvLayer latent_layer(int32_t layer) const;

 private:
  // Heads [head_begin, head_end) of one token's kv_heads vectors of head_dim floats at x into
  // `slot` of `cache` (int8: and their scales).
  void store_heads(const PageBuffer& cache, const PageBuffer* scales, int64_t slot, int32_t head_dim,
                   const float* x, int32_t head_begin, int32_t head_end);

  KvCacheShape shape_;
  int32_t num_blocks_ = 0;
  int32_t block_size_ = 0;
  int32_t kv_heads_ = 0;
  int32_t k_head_dim_ = 0;
  int32_t v_head_dim_ = 0;
  kernels::KvDtype dtype_ = kernels::KvDtype::kF32;
  std::vector<PageBuffer> k_, v_;
  std::vector<PageBuffer> k_scales_, v_scales_;  // int8: float [slot][kv_heads]
};

}  // namespace tgi::backend::cpu
