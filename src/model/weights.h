#pragma once
// The weights of a decoder-only transformer, by role. Matrices are views (zero-copy into the
// mmap'd checkpoint, or into a repacked buffer owned here); norm vectors and biases are small and
// kept widened to f32.
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "kernels/weight_view.h"

namespace tgi::model {

// How a projection is split over the ranks of a tensor-parallel model (model/sharding.h): each
// rank holds some of its output rows (column-parallel: the output is split) or some of its input
// columns (row-parallel: each rank's output is a partial sum, added across ranks), or all of it.
enum class Parallelism : uint8_t { kReplicated, kColumn, kRow };

struct Linear {
  kernels::WeightView weight;  // [out][in]
  std::vector<float> bias;     // empty: no bias
  Parallelism parallelism = Parallelism::kReplicated;
  bool present() const { return weight.data != nullptr; }
  const float* bias_or_null() const { return bias.empty() ? nullptr : bias.data(); }
};

struct Norm {
  std::vector<float> weight;  // empty: this norm does not exist in the architecture
  std::vector<float> bias;    // LayerNorm bias (empty: none)
  bool present() const { return !weight.empty(); }
};

// One feed-forward network: down(act(gate(x)) * up(x)), or down(act(up(x))) without a gate.
struct FeedForward {
  Linear gate, up, down;
  bool present() const { return down.present(); }
};

// A mixture-of-experts block: a router picks experts per token; optional shared expert(s) see
// every token (qwen2_moe scales its shared expert by a sigmoid gate).
struct MoeWeights {
  Linear router;  // [num_experts][hidden]
  std::vector<FeedForward> experts;
  FeedForward shared;
  Linear shared_gate;  // [1][hidden] or absent
  std::vector<float> router_correction_bias;  // deepseek_v3 e_score_correction_bias (empty: none)
};

// Multi-head latent attention (deepseek_v3): queries through an optional low-rank bottleneck,
// keys/values from one compressed latent per token that the KV cache stores as is.
struct LatentAttentionWeights {
  Linear q_a, q_b, q;        // q_a/q_b when q_lora_rank > 0, else q
  Norm q_a_norm, kv_a_norm;
  Linear kv_a;               // [kv_lora_rank + qk_rope_head_dim][hidden]
  std::vector<float> kv_b;   // f32 [heads * (qk_nope + v_head_dim)][kv_lora_rank], absorbed per head
};

struct LayerWeights {
  // Norms by role; which exist follows ModelConfig::block_style.
  Norm attn_in;   // before attention (input_layernorm / ln_1)
  Norm attn_out;  // on attention's output (gemma2/3, olmo2 post_attention_layernorm)
  Norm mlp_in;    // before the MLP (llama post_attention_layernorm, gemma pre_feedforward_layernorm)
  Norm mlp_out;   // on the MLP's output (post_feedforward_layernorm)
  Linear q, k, v, o;
  Norm q_norm, k_norm;
  std::vector<float> sinks;  // gpt_oss per-head attention sink logits (empty: none)
  LatentAttentionWeights mla;  // when ModelConfig::kv_lora_rank > 0 (q/k/v above unused)
  FeedForward mlp;  // dense layers (gate absent for ungated MLPs)
  MoeWeights moe;   // mixture-of-experts layers (ModelConfig::layer_is_moe)
};

struct ModelWeights {
  kernels::WeightView embed_tokens;    // [vocab][hidden]
  kernels::WeightView embed_positions; // gpt2 learned positions [max_pos][hidden], else empty
  std::vector<LayerWeights> layers;
  Norm final_norm;
  Linear lm_head;
  // Repacked matrices (e.g. gpt2's transposed Conv1D weights) that views above point into.
  std::vector<std::unique_ptr<std::vector<std::byte>>> owned;
};

// Calls visit(linear, quantizable) for every Linear of the model (absent ones included).
// `quantizable` is false for MoE routers and shared-expert gates: tiny, and rounding them can flip
// which experts are chosen.
void for_each_linear(ModelWeights& weights, const std::function<void(Linear&, bool quantizable)>& visit);

}  // namespace tgi::model
