#include "model/paged_kv_cache.h"

namespace tgi::model {

PagedKvCache::PagedKvCache(int32_t num_layers, int32_t num_blocks, int32_t block_size, int32_t kv_heads,
                           int32_t k_head_dim, int32_t v_head_dim)
    : num_blocks_(num_blocks),
      block_size_(block_size),
      k_token_stride_(int64_t{kv_heads} * k_head_dim),
      v_token_stride_(int64_t{kv_heads} * v_head_dim) {
  const auto tokens = static_cast<size_t>(int64_t{num_blocks} * block_size);
  for (int32_t l = 0; l < num_layers; ++l) {
    k_.emplace_back(tokens * static_cast<size_t>(k_token_stride_));
    v_.emplace_back(tokens * static_cast<size_t>(v_token_stride_));
  }
}

}  // namespace tgi::model
