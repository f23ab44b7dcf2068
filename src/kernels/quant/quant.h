#pragma once
// Row conversion between f32 and every GGUF weight format: exact decoding of each block format,
// and encoding for the formats `tgi convert` and load-time quantization produce. Host code that
// defines the formats, not a compute kernel: every backend's loading and the converters use it.
#include <cstdint>

#include "core/error.h"
#include "formats/gguf_types.h"

namespace tgi::kernels::quant {

// Decodes `n` elements of `type` at `src` into `dst`. `n` must be a multiple of the block size.
Result<void> dequantize_row(formats::GgmlType type, const void* src, float* dst, int64_t n);

// True for the types quantize_row() can produce.
bool can_quantize(formats::GgmlType type);

// Encodes `n` floats as `type` into `dst` (ggml_type_traits(type) says how many bytes).
Result<void> quantize_row(formats::GgmlType type, const float* src, void* dst, int64_t n);

}  // namespace tgi::kernels::quant
