#include "model/blocks/moe_block.h"

#include "model/blocks/block_weights.h"

namespace tgi::model {

MoeBlock::MoeBlock(const ModelConfig& config, const MoeWeights& m) {
  for (const FeedForward& e : m.experts) experts_.push_back(feed_forward_weights(e));
  op_.router = matrix(m.router);
  op_.shared = feed_forward_weights(m.shared);
  op_.shared_gate = matrix(m.shared_gate);
  op_.activation = feed_forward_activation(config);
  op_.scoring = config.router_scoring == RouterScoring::kSoftmax ? backend::RouterScoring::kSoftmax
                                                                 : backend::RouterScoring::kSigmoid;
  op_.top_k = static_cast<int32_t>(config.num_experts_per_tok);
  op_.normalize_top_k = config.norm_topk_prob;
  op_.routed_scaling = static_cast<float>(config.routed_scaling_factor);
  op_.weight_on_input = config.moe_weight_on_input;
  op_.correction_bias = m.router_correction_bias.empty() ? nullptr : m.router_correction_bias.data();
  op_.n_group = static_cast<int32_t>(config.n_group);
  op_.topk_group = static_cast<int32_t>(config.topk_group);
}

void MoeBlock::run(const StepContext& step, const float* x, float* out) const {
  backend::MoeOp op = op_;
  op.experts = experts_;  // set here: a span taken at construction would not follow a move
  op.x = x;
  op.rows = step.rows;
  op.out = out;
  step.backend.moe(op);
}

}  // namespace tgi::model
