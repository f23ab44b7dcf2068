#pragma once
// Pointwise activations of MLPs.
#include <cstdint>

namespace tgi::kernels {

enum class ActivationKind : uint8_t { kSilu, kGeluTanh, kGelu, kRelu };

float activate(ActivationKind kind, float x);
// x[i] = act(x[i])
void activate_inplace(ActivationKind kind, float* x, int64_t n);
// out[i] = act(gate[i]) * up[i]; out may alias gate or up.
void gated_activation(ActivationKind kind, const float* gate, const float* up, float* out, int64_t n);
// gpt_oss: gate clamped to (-inf, limit], up to [-limit, limit]; out = (up + 1) * gate * σ(α·gate).
void clamped_swiglu(const float* gate, const float* up, float* out, int64_t n, float limit, float alpha);
// cap * tanh(x / cap) for every element (gemma2 soft-capping).
void softcap_inplace(float* x, int64_t n, float cap);

}  // namespace tgi::kernels
