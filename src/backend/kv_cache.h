#pragma once
// The paged KV cache as the model and the engine see it: a number of fixed-size blocks, each
// holding block_size tokens of every layer. What a block holds and where it lives (host pages,
// device memory) belongs to the backend that allocated it; only that backend's operations read or
// write it.
#include <cstddef>
#include <cstdint>

#include "kernels/kv_dtype.h"

namespace tgi::backend {

// What one token costs in every layer: kv_heads vectors of k_head_dim (K) and v_head_dim (V)
// elements of `dtype` per layer. Latent attention (MLA) caches one "head" of the latent and rope
// key and no V: kv_heads 1, v_head_dim 0.
struct KvCacheShape {
  int32_t num_layers = 0;
  int32_t kv_heads = 0;
  int32_t k_head_dim = 0;
  int32_t v_head_dim = 0;
  kernels::KvDtype dtype = kernels::KvDtype::kF32;

  bool operator==(const KvCacheShape&) const = default;

  // Bytes one token takes in every layer (int8 adds a float scale per head vector).
  size_t bytes_per_token() const {
    size_t per_layer = static_cast<size_t>(kv_heads) * static_cast<size_t>(k_head_dim + v_head_dim) *
                       kernels::kv_element_bytes(dtype);
    if (kernels::kv_has_scales(dtype))
      per_layer += static_cast<size_t>(kv_heads) * (v_head_dim > 0 ? 2 : 1) * sizeof(float);
    return static_cast<size_t>(num_layers) * per_layer;
  }
};

class Backend;

class KvCache {
 public:
  virtual ~KvCache() = default;
  virtual int32_t num_blocks() const = 0;
  virtual int32_t block_size() const = 0;
  virtual const KvCacheShape& shape() const = 0;
  // The backend that allocated this cache: only its operations can read or write it. Null for a
  // cache made outside any backend (a test double).
  const Backend* allocator() const { return allocator_; }

 protected:
  explicit KvCache(const Backend* allocator = nullptr) : allocator_(allocator) {}

 private:
  const Backend* allocator_;
};

}  // namespace tgi::backend
