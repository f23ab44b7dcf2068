#include "model/blocks/attention_block.h"

#include "model/blocks/block_weights.h"

namespace tgi::model {

AttentionBlock::AttentionBlock(const ModelConfig& config, const LayerWeights& L, int64_t layer)
    : o_(matrix(L.o)) {
  const LayerType type = config.layer_types[layer];
  qkv_.q = matrix(L.q);
  qkv_.k = matrix(L.k);
  qkv_.v = matrix(L.v);
  qkv_.num_heads = static_cast<int32_t>(config.num_attention_heads);
  qkv_.num_kv_heads = static_cast<int32_t>(config.num_key_value_heads);
  qkv_.head_dim = static_cast<int32_t>(config.head_dim);
  switch (config.qk_norm) {
    case QkNorm::kNone:
      qkv_.qk_norm = backend::QkNormKind::kNone;
      break;
    case QkNorm::kPerHead:
      qkv_.qk_norm = backend::QkNormKind::kPerHead;
      break;
    case QkNorm::kFullWidth:
      qkv_.qk_norm = backend::QkNormKind::kFullWidth;
      break;
    case QkNorm::kL2:
      qkv_.qk_norm = backend::QkNormKind::kL2;
      break;
  }
  qkv_.q_norm = L.q_norm.present() ? L.q_norm.weight.data() : nullptr;
  qkv_.k_norm = L.k_norm.present() ? L.k_norm.weight.data() : nullptr;
  qkv_.qk_norm_one_plus = config.norm_type == NormType::kRmsNormOnePlus;
  qkv_.eps = static_cast<float>(config.norm_eps);
  qkv_.rotary_dim = static_cast<int32_t>(config.rotary_dim());
  qkv_.rope = config.layer_uses_rope[layer] && !config.learned_positions && qkv_.rotary_dim > 0;
  qkv_.rope_table =
      type == LayerType::kSlidingAttention ? backend::RopeTable::kSliding : backend::RopeTable::kFull;
  qkv_.rope_interleaved = config.rope_interleaved;
  if (config.attn_temperature_tuning && !config.layer_uses_rope[layer] && config.floor_scale > 0.0) {
    qkv_.temperature_floor_scale = config.floor_scale;
    qkv_.temperature_attn_scale = config.attn_scale;
  }
  qkv_.cache_layer = static_cast<int32_t>(layer);

  attention_.num_heads = qkv_.num_heads;
  attention_.num_kv_heads = qkv_.num_kv_heads;
  attention_.head_dim = qkv_.head_dim;
  attention_.v_head_dim = qkv_.head_dim;
  attention_.scale = static_cast<float>(config.attention_scale());
  attention_.softcap = static_cast<float>(config.attn_logit_softcapping);
  attention_.sinks = L.sinks.empty() ? nullptr : L.sinks.data();
  if (type == LayerType::kSlidingAttention) attention_.sliding_window = config.sliding_window;
  if (type == LayerType::kChunkedAttention) attention_.chunk_size = config.attention_chunk_size;
  attention_.cache_layer = static_cast<int32_t>(layer);
}

void AttentionBlock::run(const StepContext& step, const backend::ProjectionInput& in, float* out) const {
  backend::QkvOp qkv = qkv_;
  qkv.input = in;
  qkv.q_out = step.buffers.q();
  qkv.k_out = step.buffers.k();
  qkv.v_out = step.buffers.v();
  step.backend.project_qkv(qkv, step.cache);

  backend::AttentionOp attention = attention_;
  attention.q = step.buffers.q();
  attention.out = step.buffers.attention();
  step.backend.attention(attention, step.cache);
  step.backend.matmul(step.buffers.attention(), step.rows, o_, out);
}

}  // namespace tgi::model
