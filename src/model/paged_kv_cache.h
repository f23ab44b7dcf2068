#pragma once
// The paged KV cache of DESIGN.md: per layer, K and V in fixed-size blocks laid out
// [num_blocks][block_size][kv_heads][head_dim] (f32 for now). A sequence is a block table: its
// token at position p lives in block table[p / block_size], slot p % block_size.
#include <cstdint>
#include <vector>

#include "model/causal_lm.h"

namespace tgi::model {

class PagedKvCache final : public KvCache {
 public:
  PagedKvCache(int32_t num_layers, int32_t num_blocks, int32_t block_size, int32_t kv_heads, int32_t k_head_dim,
               int32_t v_head_dim);

  int32_t num_blocks() const override { return num_blocks_; }
  int32_t block_size() const override { return block_size_; }
  int32_t num_layers() const { return static_cast<int32_t>(k_.size()); }

  // Floats per token of one layer's K (resp. V).
  int64_t k_token_stride() const { return k_token_stride_; }
  int64_t v_token_stride() const { return v_token_stride_; }
  float* k(int32_t layer) { return k_[layer].data(); }
  float* v(int32_t layer) { return v_[layer].data(); }

 private:
  int32_t num_blocks_ = 0;
  int32_t block_size_ = 0;
  int64_t k_token_stride_ = 0;
  int64_t v_token_stride_ = 0;
  std::vector<std::vector<float>> k_;
  std::vector<std::vector<float>> v_;
};

}  // namespace tgi::model
