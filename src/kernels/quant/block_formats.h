#pragma once
// Byte layouts of ggml's block formats (the GGUF on-disk encodings). `d`/`dmin` are IEEE halves.
// 32-element blocks: x = d * q (+ m). K-quants: 256-element super-blocks of 16 or 32-element
// sub-blocks whose scales (and mins) are themselves quantized against d (and dmin).
#include <cstdint>

#include "formats/gguf_types.h"

namespace tgi::kernels::quant {

inline constexpr int kQk32 = 32;
inline constexpr int kQkK = 256;

#pragma pack(push, 1)
struct BlockQ4_0 {  // q in [0,15], x = d * (q - 8); qs[j] holds element j (low) and j+16 (high)
  uint16_t d;
  uint8_t qs[16];
};
struct BlockQ4_1 {  // x = d * q + m
  uint16_t d;
  uint16_t m;
  uint8_t qs[16];
};
struct BlockQ5_0 {  // fifth bit of element j is bit j of qh (little-endian u32); x = d * (q - 16)
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ5_1 {  // x = d * q + m
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ8_0 {  // x = d * q
  uint16_t d;
  int8_t qs[32];
};
struct BlockQ2_K {  // 16 sub-blocks of 16: scale/min as 4-bit pairs; 2-bit quants
  uint8_t scales[16];
  uint8_t qs[64];
  uint16_t d;
  uint16_t dmin;
};
struct BlockQ3_K {  // 16 sub-blocks of 16: 6-bit signed scales (offset 32); 2 low bits + 1 high bit
  uint8_t hmask[32];
  uint8_t qs[64];
  uint8_t scales[12];
  uint16_t d;
};
struct BlockQ4_K {  // 8 sub-blocks of 32: 6-bit scale and min each, packed in 12 bytes; 4-bit quants
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[128];
};
struct BlockQ5_K {  // as Q4_K plus a fifth bit per element in qh
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
struct BlockQ6_K {  // 16 sub-blocks of 16: int8 scales; 4 low bits in ql, 2 high bits in qh; q - 32
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
#pragma pack(pop)

using formats::GgmlType;
static_assert(sizeof(BlockQ4_0) == formats::ggml_type_traits(GgmlType::kQ4_0)->block_bytes);
static_assert(sizeof(BlockQ4_1) == formats::ggml_type_traits(GgmlType::kQ4_1)->block_bytes);
static_assert(sizeof(BlockQ5_0) == formats::ggml_type_traits(GgmlType::kQ5_0)->block_bytes);
static_assert(sizeof(BlockQ5_1) == formats::ggml_type_traits(GgmlType::kQ5_1)->block_bytes);
static_assert(sizeof(BlockQ8_0) == formats::ggml_type_traits(GgmlType::kQ8_0)->block_bytes);
static_assert(sizeof(BlockQ2_K) == formats::ggml_type_traits(GgmlType::kQ2_K)->block_bytes);
static_assert(sizeof(BlockQ3_K) == formats::ggml_type_traits(GgmlType::kQ3_K)->block_bytes);
static_assert(sizeof(BlockQ4_K) == formats::ggml_type_traits(GgmlType::kQ4_K)->block_bytes);
static_assert(sizeof(BlockQ5_K) == formats::ggml_type_traits(GgmlType::kQ5_K)->block_bytes);
static_assert(sizeof(BlockQ6_K) == formats::ggml_type_traits(GgmlType::kQ6_K)->block_bytes);

}  // namespace tgi::kernels::quant
