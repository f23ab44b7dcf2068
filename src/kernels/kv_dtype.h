#pragma once
// How K and V are stored in the paged cache (`--kv-cache-dtype`): f32 (exact), bf16 or f16 (half
// the memory, rounded), or int8 with one f32 scale per token and head (a quarter, ~0.4% error
// relative to each head vector's largest element). A storage format like WeightFormat: every
// backend reads the same names; how a backend widens them is its own business.
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

}  // namespace tgi::kernels
