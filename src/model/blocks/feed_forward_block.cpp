#include "model/blocks/feed_forward_block.h"

#include "model/blocks/block_weights.h"

namespace tgi::model {

FeedForwardBlock::FeedForwardBlock(const ModelConfig& config, const FeedForward& weights) {
  op_.weights = feed_forward_weights(weights);
  op_.activation = feed_forward_activation(config);
}

void FeedForwardBlock::run(const StepContext& step, const backend::ProjectionInput& in, float* out) const {
  backend::FeedForwardOp op = op_;
  op.input = in;
  op.out = out;
  step.backend.feed_forward(op);
}

}  // namespace tgi::model
