#pragma once
// The dense MLP of one layer: down(act(gate(x)) * up(x)), or down(act(up(x))) without a gate
// (backend::FeedForwardOp; the backend fuses the activation into the gate/up product).
#include "backend/ops.h"
#include "model/blocks/step_context.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace tgi::model {

class FeedForwardBlock {
 public:
  FeedForwardBlock(const ModelConfig& config, const FeedForward& weights);
  void run(const StepContext& step, const backend::ProjectionInput& in, float* out) const;

 private:
  backend::FeedForwardOp op_;
};

}  // namespace tgi::model
