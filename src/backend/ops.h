#pragma once
// The operations a forward pass asks of a backend, described as data: which weights, which
// activations, which fused steps (per-head q/k norm, RoPE, KV-cache append, gated activation,
// softcap). A backend decides how to run them (the CPU backend fuses the per-head steps into its
// matmul's parallel region; a GPU backend would fuse them into a kernel epilogue), so nothing here
// is code that has to run where the data is.
//
// Activation pointers (`const float*` / `float*` below) point into buffers the same backend
// allocated (Backend::allocate): the model hands them from op to op and never dereferences them.
// Weights are kernels::WeightView matrices placed by the backend at load (Backend::place_matrices)
// and small f32 vectors (norm weights, biases, sinks).
#include <cstdint>
#include <span>

#include "kernels/weight_view.h"

namespace tgi::backend {

// y = x · weightᵀ (+ bias). Absent when weight is null or has no data.
struct Matrix {
  const kernels::WeightView* weight = nullptr;
  const float* bias = nullptr;  // weight->rows floats, or null

  bool present() const { return weight != nullptr && weight->data != nullptr; }
  int64_t rows() const { return weight->rows; }
  int64_t cols() const { return weight->cols; }
};

enum class NormKind : uint8_t {
  kRms,         // x / rms(x) * w
  kRmsOnePlus,  // x / rms(x) * (1 + w) (gemma)
  kLayer,       // (x - mean) / std * w + b
  kLayerNoBias  // LayerNorm with weight only (cohere)
};

struct NormWeights {
  NormKind kind = NormKind::kRms;
  const float* weight = nullptr;
  const float* bias = nullptr;  // kLayer only
  float eps = 0.0f;
};

enum class ActivationKind : uint8_t { kSilu, kGeluTanh, kGelu, kRelu };

// One sequence of the step's ragged batch: rows [query_start, query_start + query_len) sit at KV
// positions context_len + i; block_table maps a position's block (position / block_size) to a
// block of the cache.
struct StepSequence {
  int32_t query_start = 0;
  int32_t query_len = 0;
  int32_t context_len = 0;
  const int32_t* block_table = nullptr;
};

// Everything per step that is not a weight or an activation: the batch's rows and where they go.
// Host memory, valid from Backend::begin_step until the next begin_step; a device backend copies
// it over once per step. RoPE tables hold rope_half cos and sin values per row ([row][rope_half]).
struct StepInputs {
  std::span<const int32_t> token_ids;
  std::span<const int32_t> positions;
  std::span<const StepSequence> sequences;
  std::span<const int32_t> row_sequence;  // index into `sequences` of each row
  std::span<const int64_t> row_slot;      // cache slot (block * block_size + offset) of each row
  std::span<const int32_t> logit_rows;    // rows whose logits are wanted, in output order
  int64_t rope_half = 0;
  std::span<const float> cos_full, sin_full;        // full-attention layers' rotation
  std::span<const float> cos_sliding, sin_sliding;  // sliding-window layers' (empty: none)
};

// Token embeddings (times `multiplier`) plus, with learned positions (gpt2), the position
// embedding of each row: out[row] = multiplier * tokens[token_ids[row]] + positions[position].
struct EmbedOp {
  const kernels::WeightView* tokens = nullptr;
  // tokens holds the vocabulary's rows [first_token, first_token + tokens->rows) (a rank's slice
  // under tensor parallelism); any other id embeds as zeros, which the ranks' sum fills in.
  int64_t first_token = 0;
  const kernels::WeightView* positions = nullptr;  // null: none
  float multiplier = 1.0f;
  float* out = nullptr;  // [rows][tokens->cols]
};

// out[row] = norm(in[row]) for `rows` rows of `width` floats (out may alias in).
struct NormRowsOp {
  NormWeights norm;
  const float* in = nullptr;
  float* out = nullptr;
  int64_t rows = 0;
  int64_t width = 0;
};

// The rows a block's projections read: `x` as it is ([rows][cols] contiguous) or, when rms_norm
// is set, RMS-normalized on the way in (a backend may fuse the norm into its input quantization;
// `normed` is rows × cols floats it may use to hold the normalized rows).
struct ProjectionInput {
  const float* x = nullptr;
  int64_t rows = 0;
  const NormWeights* rms_norm = nullptr;  // kRms or kRmsOnePlus, or null
  float* normed = nullptr;
};

enum class QkNormKind : uint8_t {
  kNone,
  kPerHead,    // RMSNorm over head_dim with one weight for every head
  kFullWidth,  // RMSNorm over all heads' q (resp. k) at once
  kL2          // weightless RMS norm per head, after RoPE (llama4)
};

enum class RopeTable : uint8_t { kFull, kSliding };

// The attention block's input projections with everything that follows them per row: q, k and v
// from the same input; the q/k norm; RoPE on the first rotary_dim dims of each q and k head;
// llama4's position-dependent q temperature on NoPE layers; then K and V appended to the cache at
// each row's slot in `cache_layer`.
struct QkvOp {
  ProjectionInput input;
  Matrix q, k, v;
  float* q_out = nullptr;  // [rows][num_heads * head_dim]
  float* k_out = nullptr;  // [rows][num_kv_heads * head_dim]
  float* v_out = nullptr;
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  QkNormKind qk_norm = QkNormKind::kNone;
  const float* q_norm = nullptr;  // weights: head_dim (per head) or the full width
  const float* k_norm = nullptr;
  bool qk_norm_one_plus = false;
  float eps = 0.0f;
  bool rope = false;
  RopeTable rope_table = RopeTable::kFull;
  int32_t rotary_dim = 0;
  bool rope_interleaved = false;
  // llama4 NoPE layers: q *= 1 + attn_scale * log1p(floor((position + 1) / floor_scale)).
  double temperature_floor_scale = 0.0;  // 0: none
  double temperature_attn_scale = 0.0;
  int32_t cache_layer = 0;
};

// Causal attention of the step's rows over the cache (their own K and V already appended).
struct AttentionOp {
  const float* q = nullptr;  // [rows][num_heads * head_dim]
  float* out = nullptr;      // [rows][num_heads * v_head_dim]
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t v_head_dim = 0;
  float scale = 1.0f;
  float softcap = 0.0f;          // 0: none
  int64_t sliding_window = 0;    // >0: a query sees the last `sliding_window` positions
  int64_t chunk_size = 0;        // >0: a query sees only its own chunk of positions (llama4)
  const float* sinks = nullptr;  // [num_heads] sink logits (gpt_oss) or null
  int32_t cache_layer = 0;
};

// A feed-forward network: down(act(gate(x)) * up(x)), or down(act(up(x))) without a gate.
struct FeedForwardWeights {
  Matrix gate, up, down;
  bool present() const { return down.present(); }
};

struct FeedForwardActivation {
  ActivationKind kind = ActivationKind::kSilu;
  float swiglu_limit = 0.0f;  // >0: gpt_oss's clamped SwiGLU instead of act(gate) * up
};

struct FeedForwardOp {
  ProjectionInput input;
  FeedForwardWeights weights;
  FeedForwardActivation activation;
  float* out = nullptr;  // [rows][down.rows]
};

enum class RouterScoring : uint8_t { kSoftmax, kSigmoid };

// A mixture-of-experts block: per row a router picks top_k experts; their outputs, weighted, are
// summed (in ascending expert order), then the shared expert's (scaled by sigmoid(shared_gate · x)
// when that gate exists).
struct MoeOp {
  const float* x = nullptr;  // [rows][hidden]
  int64_t rows = 0;
  float* out = nullptr;  // [rows][hidden]
  Matrix router;         // [num_experts][hidden]
  std::span<const FeedForwardWeights> experts;
  FeedForwardWeights shared;  // absent: none
  Matrix shared_gate;         // [1][hidden] or absent
  FeedForwardActivation activation;
  RouterScoring scoring = RouterScoring::kSoftmax;
  int32_t top_k = 1;
  bool normalize_top_k = false;
  float routed_scaling = 1.0f;
  bool weight_on_input = false;  // scale each expert's input instead of its output (llama4)
  // deepseek_v3: choose by probability plus this bias among the best topk_group of n_group groups.
  const float* correction_bias = nullptr;  // [num_experts] or null
  int32_t n_group = 1;
  int32_t topk_group = 1;
};

// Multi-head latent attention (deepseek_v3) with the K/V up-projection absorbed: the compressed
// latent and rope key of each row go to the cache, and the heads attend over the latents.
struct LatentAttentionOp {
  const float* x = nullptr;  // [rows][hidden], already normalized
  float* out = nullptr;      // [rows][hidden]
  Matrix q_a, q_b, q;        // q_a/q_b when q_lora_rank > 0, else q
  NormWeights q_a_norm, kv_a_norm;
  Matrix kv_a;                  // [kv_lora_rank + rope_dim][hidden]
  const float* kv_b = nullptr;  // f32 [num_heads * (nope_dim + v_head_dim)][kv_lora_rank]
  Matrix o;
  int32_t num_heads = 0;
  int32_t nope_dim = 0;
  int32_t rope_dim = 0;
  int32_t v_head_dim = 0;
  int32_t kv_lora_rank = 0;
  int32_t q_lora_rank = 0;
  float scale = 1.0f;
  bool rope_interleaved = false;
  int32_t cache_layer = 0;
};

// The logits of the step's logit_rows: final norm, LM head, then `multiplier` and a tanh softcap.
struct LogitsOp {
  const float* hidden = nullptr;  // [rows][hidden]
  NormWeights final_norm;
  Matrix lm_head;
  float multiplier = 1.0f;
  float softcap = 0.0f;  // 0: none
};

}  // namespace tgi::backend
