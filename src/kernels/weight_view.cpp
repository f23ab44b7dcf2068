#include "kernels/weight_view.h"

#include <cstring>

#include <immintrin.h>

namespace tgi::kernels {

size_t weight_format_element_bytes(WeightFormat format) {
  switch (format) {
    case WeightFormat::kF32: return 4;
    case WeightFormat::kBF16: return 2;
    case WeightFormat::kF16: return 2;
  }
  return 0;
}

const char* to_string(WeightFormat format) {
  switch (format) {
    case WeightFormat::kF32: return "f32";
    case WeightFormat::kBF16: return "bf16";
    case WeightFormat::kF16: return "f16";
  }
  return "?";
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
  }
}

}  // namespace tgi::kernels
