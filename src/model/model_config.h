#pragma once
// ModelConfig: everything the forward pass needs to know about a checkpoint, resolved once from
// Hugging Face's config.json. One struct serves every architecture (dense and MoE); fields an
// architecture does not use keep their neutral defaults. Both the transformers 4 layout
// (rope_theta/rope_scaling, sliding_window_pattern, torch_dtype) and the transformers 5 layout
// (rope_parameters, layer_types, dtype) resolve to the same value (operator==).
//
// Architecture conventions (norm flavour, block wiring, which biases exist, ...) are resolved
// here too, so the model code reads one description instead of testing model_type everywhere.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

namespace tgi::model {

enum class RopeType : uint8_t { kDefault, kLinear, kDynamic, kLlama3, kYarn, kLongrope };

// One rotary embedding: base frequency plus an optional scaling rule.
struct RopeParameters {
  RopeType type = RopeType::kDefault;
  double theta = 10000.0;
  double factor = 1.0;  // linear, dynamic, llama3, yarn
  // Context length the model was trained with before scaling (llama3, yarn, longrope, dynamic);
  // 0 when the config leaves it to max_position_embeddings.
  int64_t original_max_position_embeddings = 0;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  double beta_fast = 32.0;        // yarn
  double beta_slow = 1.0;         // yarn
  double mscale = 0.0;            // yarn (deepseek style); 0 = absent
  double mscale_all_dim = 0.0;    // yarn (deepseek style); 0 = absent
  bool truncate = true;           // yarn: round the correction range to whole dims
  std::optional<double> attention_factor;  // yarn, longrope: explicit cos/sin scale
  std::vector<double> short_factor;        // longrope
  std::vector<double> long_factor;         // longrope

  bool operator==(const RopeParameters&) const = default;
};

enum class LayerType : uint8_t { kFullAttention, kSlidingAttention, kChunkedAttention };

enum class Activation : uint8_t { kSilu, kGeluTanh, kGelu, kRelu };

enum class NormType : uint8_t {
  kRmsNorm,           // x / rms(x) * w
  kRmsNormOnePlus,    // gemma family: x / rms(x) * (1 + w)
  kLayerNorm,         // (x - mean) / std * w + b
  kLayerNormNoBias,   // cohere: LayerNorm with weight only
};

// How a decoder layer wires attention and MLP around its residual stream.
enum class BlockStyle : uint8_t {
  kPreNorm,   // h += attn(norm1(h)); h += mlp(norm2(h))          (llama and most)
  kSandwich,  // h += norm2(attn(norm1(h))); h += norm4(mlp(norm3(h)))  (gemma2, gemma3)
  kPostNorm,  // h += norm1(attn(h)); h += norm2(mlp(h))          (olmo2)
  kParallel,  // n = norm1(h); h += attn(n) + mlp(n)              (phi, cohere)
};

enum class QkNorm : uint8_t {
  kNone,
  kPerHead,    // RMSNorm over head_dim, shared by all heads (qwen3, gemma3)
  kFullWidth,  // RMSNorm over all heads' concatenated q (resp. k) (olmo2)
  kL2,         // weightless L2 norm per head (llama4)
};

enum class MlpStyle : uint8_t {
  kGated,     // down(act(gate(x)) * up(x))
  kUngated,   // down(act(up(x)))  (gpt2, phi, starcoder2)
};

enum class RouterScoring : uint8_t { kSoftmax, kSigmoid };

struct ModelConfig {
  // Identity
  std::string model_type;    // normalized HF model_type ("llama", "gemma3_text", ...)
  std::string architecture;  // architectures[0] as written ("LlamaForCausalLM"), may be empty
  std::string torch_dtype;   // "bfloat16", "float32", ... ("" when absent)

  // Sizes
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;
  int64_t max_position_embeddings = 0;

  // Architecture conventions
  NormType norm_type = NormType::kRmsNorm;
  double norm_eps = 1e-6;
  BlockStyle block_style = BlockStyle::kPreNorm;
  MlpStyle mlp_style = MlpStyle::kGated;
  Activation hidden_act = Activation::kSilu;
  QkNorm qk_norm = QkNorm::kNone;
  bool qkv_bias = false;    // q/k/v projections carry a bias
  bool o_proj_bias = false;
  bool mlp_bias = false;
  bool lm_head_bias = false;       // phi
  bool learned_positions = false;  // gpt2: absolute position embeddings, no rope
  bool tie_word_embeddings = false;

  // Rotary embeddings
  RopeParameters rope;          // full-attention layers (and all layers unless stated otherwise)
  RopeParameters rope_sliding;  // sliding-attention layers (gemma3 local base); == rope otherwise
  double partial_rotary_factor = 1.0;
  bool rope_interleaved = false;       // rotate (even, odd) pairs instead of the two halves
  std::vector<bool> layer_uses_rope;   // [num_hidden_layers]; false for NoPE layers

  // Attention pattern
  int64_t sliding_window = 0;          // tokens visible to a sliding layer incl. itself; 0 = none
  int64_t attention_chunk_size = 0;    // llama4 chunked attention
  std::vector<LayerType> layer_types;  // [num_hidden_layers]
  double query_pre_attn_scalar = 0.0;  // gemma2/3: scale = query_pre_attn_scalar^-0.5; 0 = absent
  double attention_multiplier = 0.0;   // granite: scale = attention_multiplier; 0 = absent
  double attn_logit_softcapping = 0.0; // 0 = none
  bool attention_sinks = false;        // gpt_oss: learned per-head sink logit

  // Multipliers on the residual stream and the logits
  double embedding_multiplier = 1.0;  // granite; gemma's sqrt(hidden_size)
  double residual_multiplier = 1.0;   // granite
  double logits_multiplier = 1.0;     // cohere logit_scale; granite 1/logits_scaling
  double final_logit_softcapping = 0.0;

  // Mixture of experts (num_experts == 0: dense)
  int64_t num_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t moe_intermediate_size = 0;
  int64_t shared_expert_intermediate_size = 0;  // qwen2_moe (sigmoid-gated shared expert)
  int64_t num_shared_experts = 0;               // deepseek_v3 (ungated shared experts)
  bool norm_topk_prob = false;
  RouterScoring router_scoring = RouterScoring::kSoftmax;
  int64_t n_group = 0;                // deepseek_v3 grouped top-k
  int64_t topk_group = 0;
  double routed_scaling_factor = 1.0;
  std::vector<bool> layer_is_moe;     // [num_hidden_layers]
  int64_t dense_intermediate_size = 0;  // llama4 intermediate_size_mlp for non-MoE layers
  double swiglu_limit = 0.0;           // gpt_oss clamped swiglu; 0 = none
  bool moe_weight_on_input = false;    // llama4: routing weight scales the expert's input, not its output

  // Multi-head latent attention (deepseek_v3); kv_lora_rank == 0: not MLA
  int64_t q_lora_rank = 0;
  int64_t kv_lora_rank = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t v_head_dim = 0;

  // llama4 attention temperature tuning
  bool attn_temperature_tuning = false;
  double floor_scale = 0.0;
  double attn_scale = 0.0;

  // Special tokens
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;

  bool operator==(const ModelConfig&) const = default;

  // Softmax scale of attention scores.
  double attention_scale() const;
  // Rotated dims per head (head_dim * partial_rotary_factor, even).
  int64_t rotary_dim() const;
  const RopeParameters& rope_for_layer(int64_t layer) const {
    return layer_types[layer] == LayerType::kSlidingAttention ? rope_sliding : rope;
  }
  bool is_moe() const { return num_experts > 0; }
};

// The model_type values parse_model_config accepts.
const std::vector<std::string>& supported_model_types();

Result<ModelConfig> parse_model_config(const nlohmann::json& config);
// Reads <dir>/config.json.
Result<ModelConfig> load_model_config(const std::filesystem::path& model_dir);

// generation_config.json: defaults a model ships for sampling and stopping.
struct GenerationConfig {
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  std::optional<bool> do_sample;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  std::optional<double> repetition_penalty;
  std::optional<int64_t> max_new_tokens;
  std::optional<int64_t> max_length;

  bool operator==(const GenerationConfig&) const = default;
};

Result<GenerationConfig> parse_generation_config(const nlohmann::json& config);
// Reads <dir>/generation_config.json; a directory without one gives an empty GenerationConfig.
Result<GenerationConfig> load_generation_config(const std::filesystem::path& model_dir);

const char* to_string(RopeType type);
const char* to_string(LayerType type);
const char* to_string(Activation activation);

}  // namespace tgi::model
