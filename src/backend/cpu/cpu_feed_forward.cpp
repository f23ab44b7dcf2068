// Feed-forward networks on the CPU: gate and up in one shared-input product whose epilogue applies
// the activation to the columns a thread has just computed, then down.
#include "backend/cpu/cpu_backend.h"
#include "core/scratch.h"
#include "kernels/cpu/activation.h"

namespace tgi::backend::cpu {
namespace {

kernels::ActivationKind kernel_activation(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::kSilu:
      return kernels::ActivationKind::kSilu;
    case ActivationKind::kGeluTanh:
      return kernels::ActivationKind::kGeluTanh;
    case ActivationKind::kGelu:
      return kernels::ActivationKind::kGelu;
    case ActivationKind::kRelu:
      return kernels::ActivationKind::kRelu;
  }
  return kernels::ActivationKind::kSilu;
}

}  // namespace

void CpuBackend::feed_forward(const FeedForwardOp& op) {
  run_feed_forward(op.input, op.weights, op.activation, op.out);
}

void CpuBackend::run_feed_forward(const ProjectionInput& input, const FeedForwardWeights& f,
                                  const FeedForwardActivation& activation, float* out) {
  const int64_t rows = input.rows, inter = f.up.rows();
  const auto act = kernel_activation(activation.kind);
  float* gate = grow(gate_, rows * inter);
  float* up = grow(up_, rows * inter);
  if (f.gate.present()) {
    // act(gate) · up on the columns a thread has just computed of both, inside the projection's
    // parallel region (gate and up have the same rows, so they go in lockstep: see
    // matmul_shared_input), instead of a pass of its own over memory.
    const auto gated_columns_done = [&](int64_t b, int64_t e) {
      for (int64_t t = 0; t < rows; ++t) {
        const float* g = gate + t * inter + b;
        float* u = up + t * inter + b;
        if (activation.swiglu_limit > 0.0f) {
          constexpr float kGptOssAlpha = 1.702f;
          kernels::clamped_swiglu(g, u, u, e - b, activation.swiglu_limit, kGptOssAlpha);
        } else {
          kernels::gated_activation(act, g, u, u, e - b);
        }
      }
    };
    const kernels::MatmulTarget gate_up[] = {
        {f.gate.weight, f.gate.bias, gate, inter},
        {f.up.weight, f.up.bias, up, inter, kernels::row_epilogue(gated_columns_done, 1)}};
    project(input, gate_up);
  } else {
    const auto activated_columns_done = [&](int64_t b, int64_t e) {
      for (int64_t t = 0; t < rows; ++t) kernels::activate_inplace(act, up + t * inter + b, e - b);
    };
    const kernels::MatmulTarget up_only[] = {
        {f.up.weight, f.up.bias, up, inter, kernels::row_epilogue(activated_columns_done, 1)}};
    project(input, up_only);
  }
  kernels::matmul(up, rows, *f.down.weight, f.down.bias, out, pool_);
}

}  // namespace tgi::backend::cpu
