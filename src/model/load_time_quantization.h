#pragma once
// `--quantize` for float checkpoints: the projection matrices are re-encoded at load into a GGUF
// block format the int8-activation kernels run fast (Q8_0, Q4_0, Q4_K), so safetensors users get
// the quantized speed without converting files. The quantized rows live in ModelWeights::owned;
// the float originals stay in the mmap'd checkpoint (page cache, not resident copies).
#include <optional>
#include <string_view>

#include "core/error.h"
#include "kernels/cpu/thread_pool.h"
#include "kernels/weight_view.h"
#include "model/weights.h"

namespace tgi::model {

// "q8_0", "q4_0", "q4_k" -> the target format; anything else is an error listing those.
Result<kernels::WeightFormat> parse_load_quantization(std::string_view name);

// What a matrix of `stored` format with `cols` columns becomes under `target`: nullopt keeps it as
// stored (already a block format, or rows that are not whole blocks of any 4/8-bit fallback).
// Q4_K needs 256-element rows; shorter multiples of 32 fall back to Q4_0 (still 4-bit).
std::optional<kernels::WeightFormat> quantized_format_for(kernels::WeightFormat stored, int64_t cols,
                                                          kernels::WeightFormat target);

struct QuantizationSummary {
  int64_t matrices_quantized = 0;
  int64_t matrices_kept = 0;  // float matrices whose rows are not whole blocks
};

// Re-encodes every attention, MLP, expert and LM-head projection of `weights` into `target`.
// Kept as stored: the embedding table (a lookup, not a matmul: quantizing it buys no speed and
// only adds error), MoE routers and shared-expert gates (tiny, and rounding can flip which
// experts are chosen), deepseek's absorbed kv_b (f32 by design), norms and biases.
// Float buffers the views pointed into that no view references afterwards are released.
Result<QuantizationSummary> quantize_projections(ModelWeights& weights, kernels::WeightFormat target,
                                                 kernels::ThreadPool& pool);

}  // namespace tgi::model
