#include "model/blocks/latent_attention_block.h"

#include "model/blocks/block_weights.h"

namespace tgi::model {

LatentAttentionBlock::LatentAttentionBlock(const ModelConfig& config, const LayerWeights& L, int64_t layer) {
  const LatentAttentionWeights& W = L.mla;
  op_.q_a = matrix(W.q_a);
  op_.q_b = matrix(W.q_b);
  op_.q = matrix(W.q);
  // Both norms are plain RMSNorms whatever the model's norm flavour.
  op_.q_a_norm = {backend::NormKind::kRms, W.q_a_norm.present() ? W.q_a_norm.weight.data() : nullptr, nullptr,
                  static_cast<float>(config.norm_eps)};
  op_.kv_a_norm = {backend::NormKind::kRms, W.kv_a_norm.weight.data(), nullptr,
                   static_cast<float>(config.norm_eps)};
  op_.kv_a = matrix(W.kv_a);
  op_.kv_b = W.kv_b.data();
  op_.o = matrix(L.o);
  op_.num_heads = static_cast<int32_t>(config.num_attention_heads);
  op_.nope_dim = static_cast<int32_t>(config.qk_nope_head_dim);
  op_.rope_dim = static_cast<int32_t>(config.qk_rope_head_dim);
  op_.v_head_dim = static_cast<int32_t>(config.v_head_dim);
  op_.kv_lora_rank = static_cast<int32_t>(config.kv_lora_rank);
  op_.q_lora_rank = static_cast<int32_t>(config.q_lora_rank);
  op_.scale = static_cast<float>(config.attention_scale());
  op_.rope_interleaved = config.rope_interleaved;
  op_.cache_layer = static_cast<int32_t>(layer);
}

void LatentAttentionBlock::run(const StepContext& step, const float* x, float* out) const {
  backend::LatentAttentionOp op = op_;
  op.x = x;
  op.out = out;
  step.backend.latent_attention(op, step.cache);
}

}  // namespace tgi::model
