#pragma once
// Self-attention of one layer: q, k and v projections (with the q/k norm, RoPE and the KV-cache
// append the architecture asks for, named as data in a backend::QkvOp), attention over the paged
// cache, and the output projection.
#include "backend/ops.h"
#include "model/blocks/step_context.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace tgi::model {

class AttentionBlock {
 public:
  AttentionBlock(const ModelConfig& config, const LayerWeights& weights, int64_t layer);
  // out = o(attention(q, k, v of `in`)), rows × hidden.
  void run(const StepContext& step, const backend::ProjectionInput& in, float* out) const;

 private:
  backend::QkvOp qkv_;              // the step's pointers filled in by run()
  backend::AttentionOp attention_;  // likewise
  backend::Matrix o_;
};

}  // namespace tgi::model
