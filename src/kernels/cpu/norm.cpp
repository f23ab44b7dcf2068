#include "kernels/cpu/norm.h"

#include <cmath>

namespace tgi::kernels {

// Statistics accumulate in double: rows are short and this keeps us close to the float64
// reference without a measurable cost next to the matmuls.
void rms_norm(const float* x, const float* w, int64_t n, float eps, bool one_plus, float* out) {
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) {
    const float scale = w == nullptr ? 1.0f : (one_plus ? 1.0f + w[i] : w[i]);
    out[i] = x[i] * inv * scale;
  }
}

void layer_norm(const float* x, const float* w, const float* b, int64_t n, float eps, float* out) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(n);
  double var = 0.0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<double>(n);
  const double inv = 1.0 / std::sqrt(var + eps);
  for (int64_t i = 0; i < n; ++i) {
    const float normed = static_cast<float>((x[i] - mean) * inv);
    out[i] = normed * w[i] + (b ? b[i] : 0.0f);
  }
}

}  // namespace tgi::kernels
