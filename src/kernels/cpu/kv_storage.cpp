#include "kernels/cpu/kv_storage.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/quant/half.h"

namespace tgi::kernels {
using quant::bf16_to_float;
using quant::float_to_bf16;
using quant::float_to_half;
using quant::half_to_float;

const char* to_string(KvDtype dtype) {
  switch (dtype) {
    case KvDtype::kF32:
      return "float32";
    case KvDtype::kBF16:
      return "bfloat16";
    case KvDtype::kF16:
      return "float16";
    case KvDtype::kInt8:
      return "int8";
  }
  return "?";
}

std::optional<KvDtype> parse_kv_dtype(std::string_view name) {
  if (name == "float32" || name == "f32" || name == "fp32") return KvDtype::kF32;
  if (name == "bfloat16" || name == "bf16") return KvDtype::kBF16;
  if (name == "float16" || name == "f16" || name == "fp16") return KvDtype::kF16;
  if (name == "int8") return KvDtype::kInt8;
  return std::nullopt;
}

void store_kv_heads(KvDtype dtype, const float* x, int64_t heads, int64_t head_dim, std::byte* dst,
                    float* scales) {
  const int64_t n = heads * head_dim;
  switch (dtype) {
    case KvDtype::kF32:
      std::memcpy(dst, x, static_cast<size_t>(n) * 4);
      return;
    case KvDtype::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = float_to_bf16(x[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case KvDtype::kF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = float_to_half(x[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case KvDtype::kInt8:
      for (int64_t h = 0; h < heads; ++h) {
        const float* v = x + h * head_dim;
        float largest = 0.0f;
        for (int64_t i = 0; i < head_dim; ++i) largest = std::max(largest, std::fabs(v[i]));
        const float scale = largest / 127.0f;
        const float inverse = scale > 0.0f ? 1.0f / scale : 0.0f;
        auto* q = reinterpret_cast<int8_t*>(dst + h * head_dim);
        for (int64_t i = 0; i < head_dim; ++i) q[i] = static_cast<int8_t>(std::nearbyint(v[i] * inverse));
        scales[h] = scale;
      }
      return;
  }
}

void load_kv_elements(KvDtype dtype, const std::byte* src, float scale, int64_t n, float* out) {
  switch (dtype) {
    case KvDtype::kF32:
      std::memcpy(out, src, static_cast<size_t>(n) * 4);
      return;
    case KvDtype::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = bf16_to_float(h);
      }
      return;
    case KvDtype::kF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = half_to_float(h);
      }
      return;
    case KvDtype::kInt8:
      for (int64_t i = 0; i < n; ++i)
        out[i] = scale * static_cast<float>(reinterpret_cast<const int8_t*>(src)[i]);
      return;
  }
}

}  // namespace tgi::kernels
