#pragma once
// Row normalizations. One call normalizes one row of n floats; `out` may alias `x`.
#include <cstdint>

namespace tgi::kernels {

// x / sqrt(mean(x²) + eps) * w, or * (1 + w) when one_plus (gemma). w == nullptr: no weight
// (llama4's weightless q/k norm).
void rms_norm(const float* x, const float* w, int64_t n, float eps, bool one_plus, float* out);

// (x - mean) / sqrt(var + eps) * w + b; b may be nullptr (cohere).
void layer_norm(const float* x, const float* w, const float* b, int64_t n, float eps, float* out);

}  // namespace tgi::kernels
