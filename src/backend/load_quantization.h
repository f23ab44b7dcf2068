#pragma once
// `--quantize` for float checkpoints: the projection matrices are re-encoded at load into a GGUF
// block format the int8-activation kernels run fast (Q8_0, Q4_0, Q4_K), so safetensors users get
// the quantized speed without converting files. Which matrices and into what is decided here, for
// every backend; the re-encoding is part of placing the weights (Backend::place_matrices).
#include <optional>
#include <string_view>

#include "core/error.h"
#include "kernels/weight_view.h"

namespace tgi::backend {

// "q8_0", "q4_0", "q4_k" -> the target format; anything else is an error listing those.
Result<kernels::WeightFormat> parse_load_quantization(std::string_view name);

// What a matrix of `stored` format with `cols` columns becomes under `target`: nullopt keeps it as
// stored (already a block format, or rows that are not whole blocks of any 4/8-bit fallback).
// Q4_K needs 256-element rows; shorter multiples of 32 fall back to Q4_0 (still 4-bit).
std::optional<kernels::WeightFormat> quantized_format_for(kernels::WeightFormat stored, int64_t cols,
                                                          kernels::WeightFormat target);

}  // namespace tgi::backend
