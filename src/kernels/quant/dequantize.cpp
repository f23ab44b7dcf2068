// Scalar decoders, one per block format, written from the format definitions in block_formats.h.
#include <cstring>

#include "kernels/quant/block_formats.h"
#include "kernels/quant/half.h"
#include "kernels/quant/quant.h"

namespace tgi::kernels::quant {
namespace {

void decode_q4_0(const BlockQ4_0& b, float* y) {
  const float d = half_to_float(b.d);
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>((b.qs[j] & 0x0F) - 8);
    y[j + 16] = d * static_cast<float>((b.qs[j] >> 4) - 8);
  }
}

void decode_q4_1(const BlockQ4_1& b, float* y) {
  const float d = half_to_float(b.d);
  const float m = half_to_float(b.m);
  for (int j = 0; j < 16; ++j) {
    y[j] = d * static_cast<float>(b.qs[j] & 0x0F) + m;
    y[j + 16] = d * static_cast<float>(b.qs[j] >> 4) + m;
  }
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void decode_q5_0(const BlockQ5_0& b, float* y) {
  const float d = half_to_float(b.d);
  const uint32_t high = load_u32(b.qh);
  for (int j = 0; j < 16; ++j) {
    const int lo = (b.qs[j] & 0x0F) | static_cast<int>(((high >> j) & 1u) << 4);
    const int hi = (b.qs[j] >> 4) | static_cast<int>(((high >> (j + 16)) & 1u) << 4);
    y[j] = d * static_cast<float>(lo - 16);
    y[j + 16] = d * static_cast<float>(hi - 16);
  }
}

void decode_q5_1(const BlockQ5_1& b, float* y) {
  const float d = half_to_float(b.d);
  const float m = half_to_float(b.m);
  const uint32_t high = load_u32(b.qh);
  for (int j = 0; j < 16; ++j) {
    const int lo = (b.qs[j] & 0x0F) | static_cast<int>(((high >> j) & 1u) << 4);
    const int hi = (b.qs[j] >> 4) | static_cast<int>(((high >> (j + 16)) & 1u) << 4);
    y[j] = d * static_cast<float>(lo) + m;
    y[j + 16] = d * static_cast<float>(hi) + m;
  }
}

void decode_q8_0(const BlockQ8_0& b, float* y) {
  const float d = half_to_float(b.d);
  for (int j = 0; j < 32; ++j) y[j] = d * static_cast<float>(b.qs[j]);
}

// Quants are 2-bit fields of qs: each 32-byte run serves 128 elements, four 32-element groups
// taking bits (0,1), (2,3), (4,5), (6,7); each group is two 16-element sub-blocks.
void decode_q2_k(const BlockQ2_K& b, float* y) {
  const float d = half_to_float(b.d);
  const float dmin = half_to_float(b.dmin);
  int sub = 0;
  for (int half = 0; half < 2; ++half) {
    const uint8_t* q = b.qs + 32 * half;
    for (int shift = 0; shift < 8; shift += 2) {
      for (int part = 0; part < 2; ++part, ++sub) {
        const float scale = d * static_cast<float>(b.scales[sub] & 0x0F);
        const float min = dmin * static_cast<float>(b.scales[sub] >> 4);
        for (int l = 0; l < 16; ++l) *y++ = scale * static_cast<float>((q[16 * part + l] >> shift) & 3) - min;
      }
    }
  }
}

// The 16 6-bit scales: low nibbles in bytes 0..7 (scales 0..7 low, 8..15 high nibble), the two
// high bits of scale s at bits 2*(s/4) of byte 8 + s%4.
void unpack_q3_k_scales(const uint8_t packed[12], int scales[16]) {
  for (int s = 0; s < 16; ++s) {
    const int low = s < 8 ? (packed[s] & 0x0F) : (packed[s - 8] >> 4);
    const int high = (packed[8 + s % 4] >> (2 * (s / 4))) & 3;
    scales[s] = (low | (high << 4)) - 32;
  }
}

// Like Q2_K's quants, plus a high bit from hmask (bit `group` of hmask[l]); a clear bit subtracts 4.
void decode_q3_k(const BlockQ3_K& b, float* y) {
  const float d = half_to_float(b.d);
  int scales[16];
  unpack_q3_k_scales(b.scales, scales);
  int sub = 0;
  int group = 0;
  for (int half = 0; half < 2; ++half) {
    const uint8_t* q = b.qs + 32 * half;
    for (int shift = 0; shift < 8; shift += 2, ++group) {
      for (int part = 0; part < 2; ++part, ++sub) {
        const float scale = d * static_cast<float>(scales[sub]);
        for (int l = 0; l < 16; ++l) {
          const int idx = 16 * part + l;
          const int low = (q[idx] >> shift) & 3;
          const int value = low - (((b.hmask[idx] >> group) & 1) ? 0 : 4);
          *y++ = scale * static_cast<float>(value);
        }
      }
    }
  }
}

// Scale and min of Q4_K/Q5_K sub-block j (0..7), 6 bits each, packed into 12 bytes.
void k4_scale_min(int j, const uint8_t packed[12], int* scale, int* min) {
  if (j < 4) {
    *scale = packed[j] & 63;
    *min = packed[j + 4] & 63;
  } else {
    *scale = (packed[j + 4] & 0x0F) | ((packed[j - 4] >> 6) << 4);
    *min = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
  }
}

// Each 32-byte run of qs serves 64 elements: low nibbles the first 32, high nibbles the next 32.
void decode_q4_k(const BlockQ4_K& b, float* y) {
  const float d = half_to_float(b.d);
  const float dmin = half_to_float(b.dmin);
  for (int chunk = 0; chunk < 4; ++chunk) {
    const uint8_t* q = b.qs + 32 * chunk;
    for (int nibble = 0; nibble < 2; ++nibble) {
      int sc, mn;
      k4_scale_min(2 * chunk + nibble, b.scales, &sc, &mn);
      const float scale = d * static_cast<float>(sc);
      const float min = dmin * static_cast<float>(mn);
      for (int l = 0; l < 32; ++l) *y++ = scale * static_cast<float>((q[l] >> (4 * nibble)) & 0x0F) - min;
    }
  }
}

// As Q4_K; the fifth bit of element l of sub-block s is bit s of qh[l].
void decode_q5_k(const BlockQ5_K& b, float* y) {
  const float d = half_to_float(b.d);
  const float dmin = half_to_float(b.dmin);
  for (int chunk = 0; chunk < 4; ++chunk) {
    const uint8_t* q = b.qs + 32 * chunk;
    for (int nibble = 0; nibble < 2; ++nibble) {
      const int sub = 2 * chunk + nibble;
      int sc, mn;
      k4_scale_min(sub, b.scales, &sc, &mn);
      const float scale = d * static_cast<float>(sc);
      const float min = dmin * static_cast<float>(mn);
      for (int l = 0; l < 32; ++l) {
        const int value = ((q[l] >> (4 * nibble)) & 0x0F) | (((b.qh[l] >> sub) & 1) << 4);
        *y++ = scale * static_cast<float>(value) - min;
      }
    }
  }
}

// Per 128 elements: ql (64 bytes) holds low nibbles of elements l, l+32 (low nibble) and l+64,
// l+96 (high nibble); qh (32 bytes) holds the two high bits of l, l+32, l+64, l+96 in bit pairs.
void decode_q6_k(const BlockQ6_K& b, float* y) {
  const float d = half_to_float(b.d);
  for (int half = 0; half < 2; ++half) {
    const uint8_t* ql = b.ql + 64 * half;
    const uint8_t* qh = b.qh + 32 * half;
    const int8_t* sc = b.scales + 8 * half;
    float* out = y + 128 * half;
    for (int l = 0; l < 32; ++l) {
      const int sub = l / 16;
      const int q0 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q1 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      out[l] = d * static_cast<float>(sc[sub]) * static_cast<float>(q0);
      out[l + 32] = d * static_cast<float>(sc[sub + 2]) * static_cast<float>(q1);
      out[l + 64] = d * static_cast<float>(sc[sub + 4]) * static_cast<float>(q2);
      out[l + 96] = d * static_cast<float>(sc[sub + 6]) * static_cast<float>(q3);
    }
  }
}

template <typename Block, int kElements, void (*Decode)(const Block&, float*)>
void decode_blocks(const void* src, float* dst, int64_t n) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n / kElements; ++i) {
    Block block;  // copy: the source may be unaligned file memory
    std::memcpy(&block, bytes + i * sizeof(Block), sizeof(Block));
    Decode(block, dst + i * kElements);
  }
}

}  // namespace

Result<void> dequantize_row(formats::GgmlType type, const void* src, float* dst, int64_t n) {
  const auto traits = formats::ggml_type_traits(type);
  if (!traits) return Error::make(ErrorKind::kUnsupported, "cannot dequantize ggml type {}", static_cast<uint32_t>(type));
  if (n < 0 || n % traits->block_elements != 0) {
    return Error::make(ErrorKind::kInvalidArgument, "{} rows hold multiples of {} elements, got {}", traits->name,
                       traits->block_elements, n);
  }
  switch (type) {
    case GgmlType::kF32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); break;
    case GgmlType::kF16: {
      const auto* h = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, h + 2 * i, 2);
        dst[i] = half_to_float(v);
      }
      break;
    }
    case GgmlType::kBF16: {
      const auto* h = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, h + 2 * i, 2);
        dst[i] = bf16_to_float(v);
      }
      break;
    }
    case GgmlType::kQ4_0: decode_blocks<BlockQ4_0, kQk32, decode_q4_0>(src, dst, n); break;
    case GgmlType::kQ4_1: decode_blocks<BlockQ4_1, kQk32, decode_q4_1>(src, dst, n); break;
    case GgmlType::kQ5_0: decode_blocks<BlockQ5_0, kQk32, decode_q5_0>(src, dst, n); break;
    case GgmlType::kQ5_1: decode_blocks<BlockQ5_1, kQk32, decode_q5_1>(src, dst, n); break;
    case GgmlType::kQ8_0: decode_blocks<BlockQ8_0, kQk32, decode_q8_0>(src, dst, n); break;
    case GgmlType::kQ2_K: decode_blocks<BlockQ2_K, kQkK, decode_q2_k>(src, dst, n); break;
    case GgmlType::kQ3_K: decode_blocks<BlockQ3_K, kQkK, decode_q3_k>(src, dst, n); break;
    case GgmlType::kQ4_K: decode_blocks<BlockQ4_K, kQkK, decode_q4_k>(src, dst, n); break;
    case GgmlType::kQ5_K: decode_blocks<BlockQ5_K, kQkK, decode_q5_k>(src, dst, n); break;
    case GgmlType::kQ6_K: decode_blocks<BlockQ6_K, kQkK, decode_q6_k>(src, dst, n); break;
  }
  return {};
}

}  // namespace tgi::kernels::quant
