#pragma once
// How K and V are stored in the paged cache (`--kv-cache-dtype`): f32 (exact), bf16 or f16 (half
// the memory, rounded), or int8 with one f32 scale per token and head (a quarter, ~0.4% error
// relative to each head vector's largest element). Attention widens them in registers.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tgi::kernels {

enum class KvDtype : uint8_t { kF32, kBF16, kF16, kInt8 };

const char* to_string(KvDtype dtype);
// "float32", "bfloat16", "float16", "int8" (and the short forms f32, bf16, f16/fp16).
std::optional<KvDtype> parse_kv_dtype(std::string_view name);
constexpr size_t kv_element_bytes(KvDtype dtype) {
  return dtype == KvDtype::kF32 ? 4 : dtype == KvDtype::kInt8 ? 1 : 2;
}
inline bool kv_has_scales(KvDtype dtype) {
  return dtype == KvDtype::kInt8;
}

// Stores `heads` vectors of `head_dim` floats from x into dst (heads * head_dim elements of
// `dtype`) and, for int8, one scale per head into scales[0 .. heads): x ≈ scale * q, q in
// [-127, 127], rounded to nearest.
void store_kv_heads(KvDtype dtype, const float* x, int64_t heads, int64_t head_dim, std::byte* dst,
                    float* scales);

// Widens n stored elements back to floats (int8: times `scale`).
void load_kv_elements(KvDtype dtype, const std::byte* src, float scale, int64_t n, float* out);

}  // namespace tgi::kernels
