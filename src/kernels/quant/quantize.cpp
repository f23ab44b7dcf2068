// Scalar encoders. The 32-element formats use the classic round-to-nearest rule (the extreme
// value lands exactly on the end of the grid); the K-quants pick sub-block scales by a simple
// rule that always covers the sub-block's range, so the error stays within half a step.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/quant/block_formats.h"
#include "kernels/quant/half.h"
#include "kernels/quant/quant.h"

namespace tgi::kernels::quant {
namespace {

// The element of largest magnitude, with its sign.
float signed_absmax(const float* x, int n) {
  float best = 0.0f;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > std::fabs(best)) best = x[i];
  }
  return best;
}

int clamp_int(int v, int lo, int hi) { return std::min(hi, std::max(lo, v)); }

// Quantizes to [0, levels-1] given value = d * (q - offset), rounding to nearest.
int nearest_level(float x, float inverse_d, int offset, int levels) {
  return clamp_int(static_cast<int>(std::lround(x * inverse_d)) + offset, 0, levels - 1);
}

void encode_q4_0(const float* x, BlockQ4_0& b) {
  const float max = signed_absmax(x, 32);
  const float d = max / -8.0f;  // the extreme maps to q = 0 exactly
  b.d = float_to_half(d);
  const float stored = half_to_float(b.d);
  const float id = stored != 0.0f ? 1.0f / stored : 0.0f;
  for (int j = 0; j < 16; ++j) {
    b.qs[j] = static_cast<uint8_t>(nearest_level(x[j], id, 8, 16) | (nearest_level(x[j + 16], id, 8, 16) << 4));
  }
}

void encode_q4_1(const float* x, BlockQ4_1& b) {
  const float min = *std::min_element(x, x + 32);
  const float max = *std::max_element(x, x + 32);
  b.d = float_to_half((max - min) / 15.0f);
  b.m = float_to_half(min);
  const float d = half_to_float(b.d);
  const float m = half_to_float(b.m);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < 16; ++j) {
    b.qs[j] = static_cast<uint8_t>(nearest_level(x[j] - m, id, 0, 16) | (nearest_level(x[j + 16] - m, id, 0, 16) << 4));
  }
}

void encode_q5_0(const float* x, BlockQ5_0& b) {
  const float max = signed_absmax(x, 32);
  b.d = float_to_half(max / -16.0f);
  const float stored = half_to_float(b.d);
  const float id = stored != 0.0f ? 1.0f / stored : 0.0f;
  uint32_t high = 0;
  for (int j = 0; j < 16; ++j) {
    const int lo = nearest_level(x[j], id, 16, 32);
    const int hi = nearest_level(x[j + 16], id, 16, 32);
    b.qs[j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
    high |= static_cast<uint32_t>(lo >> 4) << j;
    high |= static_cast<uint32_t>(hi >> 4) << (j + 16);
  }
  std::memcpy(b.qh, &high, 4);
}

void encode_q5_1(const float* x, BlockQ5_1& b) {
  const float min = *std::min_element(x, x + 32);
  const float max = *std::max_element(x, x + 32);
  b.d = float_to_half((max - min) / 31.0f);
  b.m = float_to_half(min);
  const float d = half_to_float(b.d);
  const float m = half_to_float(b.m);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  uint32_t high = 0;
  for (int j = 0; j < 16; ++j) {
    const int lo = nearest_level(x[j] - m, id, 0, 32);
    const int hi = nearest_level(x[j + 16] - m, id, 0, 32);
    b.qs[j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
    high |= static_cast<uint32_t>(lo >> 4) << j;
    high |= static_cast<uint32_t>(hi >> 4) << (j + 16);
  }
  std::memcpy(b.qh, &high, 4);
}

void encode_q8_0(const float* x, BlockQ8_0& b) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  b.d = float_to_half(amax / 127.0f);
  const float d = half_to_float(b.d);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < 32; ++j) b.qs[j] = static_cast<int8_t>(clamp_int(static_cast<int>(std::lround(x[j] * id)), -127, 127));
}

// The smallest half >= v (v >= 0), so a rounded super-scale never shrinks the range it covers.
uint16_t half_at_least(float v) {
  uint16_t h = float_to_half(v);
  while (half_to_float(h) < v && h < 0x7bff) ++h;
  return h;
}

// Sub-block j's 6-bit scale and min into Q4_K/Q5_K's 12-byte packing (inverse of the decoder's).
void pack_k4_scale_min(const int scales[8], const int mins[8], uint8_t packed[12]) {
  std::memset(packed, 0, 12);
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<uint8_t>((scales[j] & 63) | ((scales[j + 4] >> 4) << 6));
    packed[j + 4] = static_cast<uint8_t>((mins[j] & 63) | ((mins[j + 4] >> 4) << 6));
    packed[j + 8] = static_cast<uint8_t>((scales[j + 4] & 0x0F) | ((mins[j + 4] & 0x0F) << 4));
  }
}

void encode_q4_k(const float* x, BlockQ4_K& b) {
  // Each 32-element sub-block s covers [-min_s, -min_s + 15 * scale_s] with min_s >= 0.
  float want_min[8];
  float dmin_needed = 0.0f;
  for (int s = 0; s < 8; ++s) {
    const float lo = std::min(0.0f, *std::min_element(x + 32 * s, x + 32 * s + 32));
    want_min[s] = -lo;
    dmin_needed = std::max(dmin_needed, want_min[s] / 63.0f);
  }
  b.dmin = half_at_least(dmin_needed);
  const float dmin = half_to_float(b.dmin);
  int mins[8];
  float min_value[8];
  float want_scale[8];
  float d_needed = 0.0f;
  for (int s = 0; s < 8; ++s) {
    mins[s] = dmin > 0.0f ? clamp_int(static_cast<int>(std::ceil(want_min[s] / dmin)), 0, 63) : 0;
    min_value[s] = dmin * static_cast<float>(mins[s]);
    const float hi = *std::max_element(x + 32 * s, x + 32 * s + 32);
    want_scale[s] = std::max(0.0f, hi + min_value[s]) / 15.0f;
    d_needed = std::max(d_needed, want_scale[s] / 63.0f);
  }
  b.d = half_at_least(d_needed);
  const float d = half_to_float(b.d);
  int scales[8];
  for (int s = 0; s < 8; ++s) {
    scales[s] = d > 0.0f ? clamp_int(static_cast<int>(std::ceil(want_scale[s] / d)), 0, 63) : 0;
  }
  pack_k4_scale_min(scales, mins, b.scales);
  uint8_t q[256];
  for (int s = 0; s < 8; ++s) {
    const float step = d * static_cast<float>(scales[s]);
    const float inv = step > 0.0f ? 1.0f / step : 0.0f;
    for (int l = 0; l < 32; ++l) q[32 * s + l] = static_cast<uint8_t>(nearest_level(x[32 * s + l] + min_value[s], inv, 0, 16));
  }
  for (int chunk = 0; chunk < 4; ++chunk) {
    for (int l = 0; l < 32; ++l) {
      b.qs[32 * chunk + l] = static_cast<uint8_t>(q[64 * chunk + l] | (q[64 * chunk + 32 + l] << 4));
    }
  }
}

void encode_q6_k(const float* x, BlockQ6_K& b) {
  // Sub-block s (16 elements) has step d * sc[s]; its extreme lands on -32 like Q4_0's on 0.
  float want[16];
  float amax = 0.0f;
  for (int s = 0; s < 16; ++s) {
    want[s] = signed_absmax(x + 16 * s, 16) / -32.0f;
    amax = std::max(amax, std::fabs(want[s]));
  }
  b.d = float_to_half(amax / 127.0f);
  const float d = half_to_float(b.d);
  uint8_t q[256];
  for (int s = 0; s < 16; ++s) {
    const int sc = d > 0.0f ? clamp_int(static_cast<int>(std::lround(want[s] / d)), -127, 127) : 0;
    b.scales[s] = static_cast<int8_t>(sc);
    const float step = d * static_cast<float>(sc);
    const float inv = step != 0.0f ? 1.0f / step : 0.0f;
    for (int l = 0; l < 16; ++l) q[16 * s + l] = static_cast<uint8_t>(nearest_level(x[16 * s + l], inv, 32, 64));
  }
  for (int half = 0; half < 2; ++half) {
    const uint8_t* h = q + 128 * half;
    for (int l = 0; l < 32; ++l) {
      b.ql[64 * half + l] = static_cast<uint8_t>((h[l] & 0x0F) | ((h[l + 64] & 0x0F) << 4));
      b.ql[64 * half + l + 32] = static_cast<uint8_t>((h[l + 32] & 0x0F) | ((h[l + 96] & 0x0F) << 4));
      b.qh[32 * half + l] =
          static_cast<uint8_t>((h[l] >> 4) | ((h[l + 32] >> 4) << 2) | ((h[l + 64] >> 4) << 4) | ((h[l + 96] >> 4) << 6));
    }
  }
}

template <typename Block, int kElements, void (*Encode)(const float*, Block&)>
void encode_blocks(const float* src, void* dst, int64_t n) {
  auto* bytes = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n / kElements; ++i) {
    Block block{};
    Encode(src + i * kElements, block);
    std::memcpy(bytes + i * sizeof(Block), &block, sizeof(Block));
  }
}

}  // namespace

bool can_quantize(formats::GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
    case GgmlType::kF16:
    case GgmlType::kBF16:
    case GgmlType::kQ4_0:
    case GgmlType::kQ4_1:
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1:
    case GgmlType::kQ8_0:
    case GgmlType::kQ4_K:
    case GgmlType::kQ6_K: return true;
    default: return false;
  }
}

Result<void> quantize_row(formats::GgmlType type, const float* src, void* dst, int64_t n) {
  const auto traits = formats::ggml_type_traits(type);
  if (!traits || !can_quantize(type)) {
    return Error::make(ErrorKind::kUnsupported, "quantizing to {} is not implemented", formats::ggml_type_name(type));
  }
  if (n < 0 || n % traits->block_elements != 0) {
    return Error::make(ErrorKind::kInvalidArgument, "{} rows hold multiples of {} elements, got {}", traits->name,
                       traits->block_elements, n);
  }
  auto* out = static_cast<uint8_t*>(dst);
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); break;
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = float_to_half(src[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    case GgmlType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = float_to_bf16(src[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      break;
    case GgmlType::kQ4_0: encode_blocks<BlockQ4_0, kQk32, encode_q4_0>(src, dst, n); break;
    case GgmlType::kQ4_1: encode_blocks<BlockQ4_1, kQk32, encode_q4_1>(src, dst, n); break;
    case GgmlType::kQ5_0: encode_blocks<BlockQ5_0, kQk32, encode_q5_0>(src, dst, n); break;
    case GgmlType::kQ5_1: encode_blocks<BlockQ5_1, kQk32, encode_q5_1>(src, dst, n); break;
    case GgmlType::kQ8_0: encode_blocks<BlockQ8_0, kQk32, encode_q8_0>(src, dst, n); break;
    case GgmlType::kQ4_K: encode_blocks<BlockQ4_K, kQkK, encode_q4_k>(src, dst, n); break;
    case GgmlType::kQ6_K: encode_blocks<BlockQ6_K, kQkK, encode_q6_k>(src, dst, n); break;
    default: break;
  }
  return {};
}

}  // namespace tgi::kernels::quant
