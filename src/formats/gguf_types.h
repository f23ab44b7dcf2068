#pragma once
// The element formats a GGUF file can store (ggml's type ids) and their block geometry.
// Header-only facts about the file format, shared by the GGUF reader/writer (formats/) and the
// block (de)quantizers (kernels/quant/), which include it without linking formats.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tgi::formats {

// Values are ggml's on-disk type ids; ids we do not implement are rejected by the reader.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kBF16 = 30,
};

struct GgmlTypeTraits {
  std::string_view name;   // "Q4_K", as llama.cpp prints it
  int64_t block_elements;  // elements per block (1 for plain floats)
  size_t block_bytes;      // bytes per block
};

// Elements per block of the 32-element formats and of the K-quant super-blocks.
inline constexpr int64_t kQk32 = 32;
inline constexpr int64_t kQkK = 256;

inline constexpr std::optional<GgmlTypeTraits> ggml_type_traits(GgmlType type) {
  switch (type) {
    case GgmlType::kF32: return GgmlTypeTraits{"F32", 1, 4};
    case GgmlType::kF16: return GgmlTypeTraits{"F16", 1, 2};
    case GgmlType::kBF16: return GgmlTypeTraits{"BF16", 1, 2};
    case GgmlType::kQ4_0: return GgmlTypeTraits{"Q4_0", kQk32, 2 + 16};
    case GgmlType::kQ4_1: return GgmlTypeTraits{"Q4_1", kQk32, 2 + 2 + 16};
    case GgmlType::kQ5_0: return GgmlTypeTraits{"Q5_0", kQk32, 2 + 4 + 16};
    case GgmlType::kQ5_1: return GgmlTypeTraits{"Q5_1", kQk32, 2 + 2 + 4 + 16};
    case GgmlType::kQ8_0: return GgmlTypeTraits{"Q8_0", kQk32, 2 + 32};
    case GgmlType::kQ2_K: return GgmlTypeTraits{"Q2_K", kQkK, 16 + 64 + 2 + 2};
    case GgmlType::kQ3_K: return GgmlTypeTraits{"Q3_K", kQkK, 32 + 64 + 12 + 2};
    case GgmlType::kQ4_K: return GgmlTypeTraits{"Q4_K", kQkK, 2 + 2 + 12 + 128};
    case GgmlType::kQ5_K: return GgmlTypeTraits{"Q5_K", kQkK, 2 + 2 + 12 + 32 + 128};
    case GgmlType::kQ6_K: return GgmlTypeTraits{"Q6_K", kQkK, 128 + 64 + 16 + 2};
  }
  return std::nullopt;
}

// A raw id from a file → a type we implement, or nullopt.
inline constexpr std::optional<GgmlType> ggml_type_from_id(uint32_t id) {
  const auto type = static_cast<GgmlType>(id);
  if (!ggml_type_traits(type)) return std::nullopt;
  return type;
}

inline constexpr std::string_view ggml_type_name(GgmlType type) {
  const auto traits = ggml_type_traits(type);
  return traits ? traits->name : std::string_view("?");
}

// "q4_k" / "Q4_K" → GgmlType.
inline std::optional<GgmlType> parse_ggml_type(std::string_view name) {
  for (uint32_t id = 0; id <= 30; ++id) {
    const auto type = ggml_type_from_id(id);
    if (!type) continue;
    const std::string_view canonical = ggml_type_name(*type);
    if (canonical.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      char c = name[i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      same = c == canonical[i];
    }
    if (same) return type;
  }
  return std::nullopt;
}

}  // namespace tgi::formats
