#pragma once
// y = x · Wᵀ for a batch of activation rows: y[t][r] = Σ_k x[t][k] · W[r][k].
// Activations are f32; the weight stays in its stored format and is widened in registers.
// Work is split over weight rows, so each weight row is read from memory once per call however
// many tokens there are (decode-friendly); every output element is computed by the same
// instruction sequence whatever the batch, so a token's result never depends on its neighbours.
#include <cstdint>

#include "kernels/cpu/thread_pool.h"
#include "kernels/weight_view.h"

namespace tgi::kernels {

// x: [num_tokens][w.cols] with row stride x_stride (floats); y: [num_tokens][w.rows] with row
// stride y_stride. `bias` (w.rows floats) may be null.
void matmul(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w, const float* bias, float* y,
            int64_t y_stride, ThreadPool& pool);

// Block formats the int8 kernels do not cover (and tests/benchmarks of those that they do): every
// weight row dequantized to f32 and dotted with f32 activations. Same arguments as matmul().
void matmul_block_format_reference(const float* x, int64_t num_tokens, int64_t x_stride, const WeightView& w,
                                   const float* bias, float* y, int64_t y_stride, ThreadPool& pool);

// How bf16 weights are multiplied (process-wide; other formats always use kExact).
//  kExact: activations stay f32, weights are widened in registers (default; what the float64
//    goldens are checked against).
//  kBf16Activations: each activation row is rounded to bf16 and multiplied with AVX-512-BF16
//    (vdpbf16ps) where the CPU has it, at twice the f32 FMA rate: the precision transformers
//    itself runs a bf16 model in. Falls back to kExact elsewhere.
// Both keep batch invariance: a row's rounding and sums never depend on the other rows.
enum class MatmulPrecision : uint8_t { kExact, kBf16Activations };
void set_matmul_precision(MatmulPrecision precision);
MatmulPrecision matmul_precision();

// Contiguous convenience form.
inline void matmul(const float* x, int64_t num_tokens, const WeightView& w, const float* bias, float* y,
                   ThreadPool& pool) {
  matmul(x, num_tokens, w.cols, w, bias, y, w.rows, pool);
}

}  // namespace tgi::kernels
