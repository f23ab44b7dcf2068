#pragma once
// The mixture-of-experts MLP of one layer: router, top-k experts, optional shared expert
// (backend::MoeOp; routing and expert dispatch are the backend's).
#include <vector>

#include "backend/ops.h"
#include "model/blocks/step_context.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace tgi::model {

class MoeBlock {
 public:
  MoeBlock(const ModelConfig& config, const MoeWeights& weights);
  // out = the experts' weighted sum for the normalized rows x, rows × hidden.
  void run(const StepContext& step, const float* x, float* out) const;

 private:
  std::vector<backend::FeedForwardWeights> experts_;
  backend::MoeOp op_;
};

}  // namespace tgi::model
