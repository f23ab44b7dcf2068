#pragma once
// Element types of stored tensors (safetensors names; GGUF block formats are added beside them).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tgi::formats {

enum class DType : uint8_t { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool, kF8E4M3, kF8E5M2 };

// Bytes per element.
size_t dtype_size(DType dtype);
// "F32", "BF16", ... as safetensors writes them.
std::string_view dtype_name(DType dtype);
std::optional<DType> parse_dtype(std::string_view safetensors_name);

}  // namespace tgi::formats
