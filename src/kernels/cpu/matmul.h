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

// Contiguous convenience form.
inline void matmul(const float* x, int64_t num_tokens, const WeightView& w, const float* bias, float* y,
                   ThreadPool& pool) {
  matmul(x, num_tokens, w.cols, w, bias, y, w.rows, pool);
}

}  // namespace tgi::kernels
