#include "kernels/weight_view.h"

#include <cstring>

#include <immintrin.h>

#include "kernels/quant/quant.h"

namespace tgi::kernels {

bool is_block_format(WeightFormat format) {
  return format != WeightFormat::kF32 && format != WeightFormat::kBF16 && format != WeightFormat::kF16;
}

formats::GgmlType ggml_type_for(WeightFormat format) {
  using formats::GgmlType;
  switch (format) {
    case WeightFormat::kF32: return GgmlType::kF32;
    case WeightFormat::kBF16: return GgmlType::kBF16;
    case WeightFormat::kF16: return GgmlType::kF16;
    case WeightFormat::kQ4_0: return GgmlType::kQ4_0;
    case WeightFormat::kQ4_1: return GgmlType::kQ4_1;
    case WeightFormat::kQ5_0: return GgmlType::kQ5_0;
    case WeightFormat::kQ5_1: return GgmlType::kQ5_1;
    case WeightFormat::kQ8_0: return GgmlType::kQ8_0;
    case WeightFormat::kQ2_K: return GgmlType::kQ2_K;
    case WeightFormat::kQ3_K: return GgmlType::kQ3_K;
    case WeightFormat::kQ4_K: return GgmlType::kQ4_K;
    case WeightFormat::kQ5_K: return GgmlType::kQ5_K;
    case WeightFormat::kQ6_K: return GgmlType::kQ6_K;
  }
  return GgmlType::kF32;
}

std::optional<WeightFormat> weight_format_for_ggml(formats::GgmlType type) {
  for (auto f : {WeightFormat::kF32, WeightFormat::kBF16, WeightFormat::kF16, WeightFormat::kQ4_0, WeightFormat::kQ4_1,
                 WeightFormat::kQ5_0, WeightFormat::kQ5_1, WeightFormat::kQ8_0, WeightFormat::kQ2_K, WeightFormat::kQ3_K,
                 WeightFormat::kQ4_K, WeightFormat::kQ5_K, WeightFormat::kQ6_K})
    if (ggml_type_for(f) == type) return f;
  return std::nullopt;
}

size_t weight_format_element_bytes(WeightFormat format) {
  switch (format) {
    case WeightFormat::kF32: return 4;
    case WeightFormat::kBF16: return 2;
    case WeightFormat::kF16: return 2;
    default: return 0;
  }
}

int64_t weight_format_block_elements(WeightFormat format) {
  return formats::ggml_type_traits(ggml_type_for(format))->block_elements;
}

int64_t weight_row_bytes(WeightFormat format, int64_t cols) {
  const auto traits = formats::ggml_type_traits(ggml_type_for(format));
  return cols / traits->block_elements * static_cast<int64_t>(traits->block_bytes);
}

const char* to_string(WeightFormat format) {
  switch (format) {
    case WeightFormat::kF32: return "f32";
    case WeightFormat::kBF16: return "bf16";
    case WeightFormat::kF16: return "f16";
    default: return formats::ggml_type_traits(ggml_type_for(format))->name.data();
  }
}

void dequantize_row(const WeightView& w, int64_t r, float* out) {
  const std::byte* src = w.row(r);
  switch (w.format) {
    case WeightFormat::kF32:
      std::memcpy(out, src, static_cast<size_t>(w.cols) * sizeof(float));
      return;
    case WeightFormat::kBF16: {
      const auto* p = reinterpret_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < w.cols; ++i) {
        const uint32_t bits = static_cast<uint32_t>(p[i]) << 16;
        std::memcpy(&out[i], &bits, sizeof(float));
      }
      return;
    }
    case WeightFormat::kF16: {
      const auto* p = reinterpret_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < w.cols; ++i) out[i] = _cvtsh_ss(p[i]);
      return;
    }
    default:
      // Views are built with cols a multiple of the block size, so this cannot fail.
      (void)quant::dequantize_row(ggml_type_for(w.format), src, out, w.cols);
      return;
  }
}

}  // namespace tgi::kernels
