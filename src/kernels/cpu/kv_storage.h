#pragma once
// Writing K and V into the paged cache in the formats of kernels/kv_dtype.h, and reading them back.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "kernels/kv_dtype.h"

namespace tgi::kernels {

// Stores `heads` vectors of `head_dim` floats from x into dst (heads * head_dim elements of
// `dtype`) and, for int8, one scale per head into scales[0 .. heads): x ≈ scale * q, q in
// [-127, 127], rounded to nearest.
void store_kv_heads(KvDtype dtype, const float* x, int64_t heads, int64_t head_dim, std::byte* dst,
                    float* scales);

// Widens n stored elements back to floats (int8: times `scale`).
void load_kv_elements(KvDtype dtype, const std::byte* src, float scale, int64_t n, float* out);

}  // namespace tgi::kernels
