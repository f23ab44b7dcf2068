#include "backend/cpu/paged_kv_cache.h"

#include <new>

namespace tgi::backend::cpu {
namespace {

PageBuffer reserve(size_t bytes) {
  auto buffer = PageBuffer::allocate(bytes);
  if (!buffer.ok()) throw std::bad_alloc();
  return std::move(*buffer);
}

}  // namespace

PagedKvCache::PagedKvCache(const KvCacheShape& shape, int32_t num_blocks, int32_t block_size,
                           const Backend* allocator)
    : KvCache(allocator),
      shape_(shape),
      num_blocks_(num_blocks),
      block_size_(block_size),
      kv_heads_(shape.kv_heads),
      k_head_dim_(shape.k_head_dim),
      v_head_dim_(shape.v_head_dim),
      dtype_(shape.dtype) {
  const int32_t num_layers = shape.num_layers, kv_heads = shape.kv_heads;
  const int32_t k_head_dim = shape.k_head_dim, v_head_dim = shape.v_head_dim;
  const kernels::KvDtype dtype = shape.dtype;
  const auto tokens = static_cast<size_t>(int64_t{num_blocks} * block_size);
  const size_t element = kernels::kv_element_bytes(dtype);
  for (int32_t l = 0; l < num_layers; ++l) {
    k_.push_back(reserve(tokens * static_cast<size_t>(kv_heads) * static_cast<size_t>(k_head_dim) * element));
    v_.push_back(reserve(tokens * static_cast<size_t>(kv_heads) * static_cast<size_t>(v_head_dim) * element));
    if (kernels::kv_has_scales(dtype)) {
      k_scales_.push_back(reserve(tokens * static_cast<size_t>(kv_heads) * sizeof(float)));
      v_scales_.push_back(
          reserve(v_head_dim > 0 ? tokens * static_cast<size_t>(kv_heads) * sizeof(float) : 0));
    }
  }
}

void PagedKvCache::store_heads(const PageBuffer& cache, const PageBuffer* scales, int64_t slot,
                               int32_t head_dim, const float* x, int32_t head_begin, int32_t head_end) {
  const int64_t first = slot * kv_heads_ + head_begin;
  std::byte* dst = cache.data() + static_cast<size_t>(first * head_dim) * kernels::kv_element_bytes(dtype_);
  kernels::store_kv_heads(dtype_, x + int64_t{head_begin} * head_dim, head_end - head_begin, head_dim, dst,
                          scales ? reinterpret_cast<float*>(scales->data()) + first : nullptr);
}

void PagedKvCache::store_k(int32_t layer, int64_t slot, const float* k) {
  store_k_heads(layer, slot, k, 0, kv_heads_);
}

void PagedKvCache::store_v(int32_t layer, int64_t slot, const float* v) {
  store_v_heads(layer, slot, v, 0, kv_heads_);
}

void PagedKvCache::store_k_heads(int32_t layer, int64_t slot, const float* k, int32_t head_begin,
                                 int32_t head_end) {
  store_heads(k_[layer], kernels::kv_has_scales(dtype_) ? &k_scales_[layer] : nullptr, slot, k_head_dim_, k,
              head_begin, head_end);
}

void PagedKvCache::store_v_heads(int32_t layer, int64_t slot, const float* v, int32_t head_begin,
                                 int32_t head_end) {
  store_heads(v_[layer], kernels::kv_has_scales(dtype_) ? &v_scales_[layer] : nullptr, slot, v_head_dim_, v,
              head_begin, head_end);
}

kernels::PagedKvLayer PagedKvCache::layer(int32_t layer) const {
  kernels::PagedKvLayer view;
  view.k = k_[layer].data();
  view.v = v_[layer].data();
  view.block_size = block_size_;
  view.dtype = dtype_;
  if (kernels::kv_has_scales(dtype_)) {
    view.k_scales = reinterpret_cast<const float*>(k_scales_[layer].data());
    view.v_scales = reinterpret_cast<const float*>(v_scales_[layer].data());
  }
  return view;
}

kernels::PagedKvLayer PagedKvCache::latent_layer(int32_t layer) const {
  kernels::PagedKvLayer view = this->layer(layer);
  view.v = view.k;
  view.v_scales = view.k_scales;
  view.k_token_stride = int64_t{kv_heads_} * k_head_dim_;
  view.v_token_stride = view.k_token_stride;
  return view;
}

}  // namespace tgi::backend::cpu
