#pragma once
// Multi-head latent attention of one layer (deepseek_v3): the latent and rope key go to the cache,
// the heads attend over the latents (backend::LatentAttentionOp).
#include "backend/ops.h"
#include "model/blocks/step_context.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace tgi::model {

class LatentAttentionBlock {
 public:
  LatentAttentionBlock(const ModelConfig& config, const LayerWeights& weights, int64_t layer);
  // out = attention of the normalized rows x, rows × hidden.
  void run(const StepContext& step, const float* x, float* out) const;

 private:
  backend::LatentAttentionOp op_;
};

}  // namespace tgi::model
