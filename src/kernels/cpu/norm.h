#pragma once
// Row normalizations. One call normalizes one row of n floats; `out` may alias `x`.
#include <cstdint>

namespace tgi::kernels {

// x / sqrt(mean(x²) + eps) * w, or * (1 + w) when one_plus (gemma). w == nullptr: no weight
// (llama4's weightless q/k norm).
void rms_norm(const float* x, const float* w, int64_t n, float eps, bool one_plus, float* out);

// rms_norm in two steps, for code that applies the norm on the way to somewhere else
// (kernels/cpu/qgemm: norm and int8 quantization in one pass, a block at a time) and must match
// rms_norm bit for bit: the row's factor 1 / sqrt(mean(x²) + eps), then any slice of the row
// scaled by it, out[i] = x[i] * factor * (w[i] or 1 + w[i]); rms_norm is exactly these two.
float rms_norm_factor(const float* x, int64_t n, float eps);
void rms_norm_apply(const float* x, const float* w, int64_t n, float factor, bool one_plus, float* out);

// (x - mean) / sqrt(var + eps) * w + b; b may be nullptr (cohere).
void layer_norm(const float* x, const float* w, const float* b, int64_t n, float eps, float* out);

}  // namespace tgi::kernels
