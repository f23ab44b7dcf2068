#include "kernels/cpu/activation.h"

#include <algorithm>
#include <cmath>

#include <immintrin.h>

#include "kernels/cpu/vector_exp.h"

namespace tgi::kernels {

float activate(ActivationKind kind, float x) {
  switch (kind) {
    case ActivationKind::kSilu: return x / (1.0f + std::exp(-x));
    case ActivationKind::kGeluTanh: {
      constexpr float kSqrt2OverPi = 0.7978845608028654f;
      return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
    }
    case ActivationKind::kGelu: return 0.5f * x * (1.0f + std::erf(x * 0.7071067811865476f));
    case ActivationKind::kRelu: return x > 0.0f ? x : 0.0f;
  }
  return x;
}

void activate_inplace(ActivationKind kind, float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = activate(kind, x[i]);
}

namespace {

// silu(g) · u for 8 lanes: g / (1 + e^-g) · u (e^-g may saturate to inf: then -0, the limit).
inline __m256 silu_times8(__m256 g, __m256 u) {
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
  return _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), u);
}

}  // namespace

void gated_activation(ActivationKind kind, const float* gate, const float* up, float* out, int64_t n) {
  if (kind != ActivationKind::kSilu) {
    for (int64_t i = 0; i < n; ++i) out[i] = activate(kind, gate[i]) * up[i];
    return;
  }
  // SwiGLU, the common case, 8 at a time; the tail through the same vector code so every element
  // gets the same arithmetic wherever it sits.
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, silu_times8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
  if (i < n) {
    alignas(32) float g[8] = {}, u[8] = {};
    for (int64_t k = i; k < n; ++k) g[k - i] = gate[k], u[k - i] = up[k];
    _mm256_store_ps(g, silu_times8(_mm256_load_ps(g), _mm256_load_ps(u)));
    for (int64_t k = i; k < n; ++k) out[k] = g[k - i];
  }
}

void clamped_swiglu(const float* gate, const float* up, float* out, int64_t n, float limit, float alpha) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = std::min(gate[i], limit);
    const float u = std::clamp(up[i], -limit, limit);
    out[i] = (u + 1.0f) * (g / (1.0f + std::exp(-alpha * g)));
  }
}

void softcap_inplace(float* x, int64_t n, float cap) {
  for (int64_t i = 0; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

}  // namespace tgi::kernels
