#include "kernels/cpu/activation.h"

#include <algorithm>
#include <cmath>

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

void gated_activation(ActivationKind kind, const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = activate(kind, gate[i]) * up[i];
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
