#include "model/model_config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace tgi::model {
namespace {

using json = nlohmann::json;

// A key counts as present only when it is not null (HF writes `"head_dim": null` for "derive it").
const json* field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<double> number_or(const json& j, const char* key, double fallback) {
  const json* v = field(j, key);
  if (!v) return fallback;
  if (!v->is_number()) return Error::make(ErrorKind::kInvalidArgument, "config.json: '{}' must be a number", key);
  return v->get<double>();
}

Result<int64_t> integer_or(const json& j, const char* key, int64_t fallback) {
  const json* v = field(j, key);
  if (!v) return fallback;
  if (v->is_number_integer() || v->is_number_unsigned()) return v->get<int64_t>();
  // Whole floats ("2.0") are accepted; ones outside int64 would make the cast UB (found by fuzzing).
  if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
      std::fabs(v->get<double>()) < 9.0e18) {
    return static_cast<int64_t>(v->get<double>());
  }
  return Error::make(ErrorKind::kInvalidArgument, "config.json: '{}' must be an integer", key);
}

Result<bool> bool_or(const json& j, const char* key, bool fallback) {
  const json* v = field(j, key);
  if (!v) return fallback;
  if (!v->is_boolean()) return Error::make(ErrorKind::kInvalidArgument, "config.json: '{}' must be a boolean", key);
  return v->get<bool>();
}

Result<std::string> string_or(const json& j, const char* key, std::string fallback) {
  const json* v = field(j, key);
  if (!v) return fallback;
  if (!v->is_string()) return Error::make(ErrorKind::kInvalidArgument, "config.json: '{}' must be a string", key);
  return v->get<std::string>();
}

// An id or a list of ids (eos_token_id may be either).
Result<std::vector<int64_t>> id_list(const json& j, const char* key) {
  std::vector<int64_t> ids;
  const json* v = field(j, key);
  if (!v) return ids;
  if (v->is_number_integer()) {
    ids.push_back(v->get<int64_t>());
    return ids;
  }
  if (!v->is_array()) return Error::make(ErrorKind::kInvalidArgument, "config: '{}' must be an id or a list of ids", key);
  for (const auto& e : *v) {
    if (!e.is_number_integer()) return Error::make(ErrorKind::kInvalidArgument, "config: '{}' must hold integers", key);
    ids.push_back(e.get<int64_t>());
  }
  return ids;
}

Result<std::optional<int64_t>> optional_id(const json& j, const char* key) {
  const json* v = field(j, key);
  if (!v) return std::optional<int64_t>{};
  if (v->is_array()) {  // some configs list several bos ids; the first is the one prepended
    if (v->empty()) return std::optional<int64_t>{};
    if (!(*v)[0].is_number_integer()) return Error::make(ErrorKind::kInvalidArgument, "config: '{}' must hold integers", key);
    return std::optional<int64_t>((*v)[0].get<int64_t>());
  }
  if (!v->is_number_integer()) return Error::make(ErrorKind::kInvalidArgument, "config: '{}' must be an integer", key);
  return std::optional<int64_t>(v->get<int64_t>());
}

Result<std::vector<double>> double_list(const json& j, const char* key) {
  std::vector<double> out;
  const json* v = field(j, key);
  if (!v) return out;
  if (!v->is_array()) return Error::make(ErrorKind::kInvalidArgument, "config: '{}' must be a list of numbers", key);
  for (const auto& e : *v) {
    if (!e.is_number()) return Error::make(ErrorKind::kInvalidArgument, "config: '{}' must be a list of numbers", key);
    out.push_back(e.get<double>());
  }
  return out;
}

Result<Activation> parse_activation(const std::string& name) {
  if (name == "silu" || name == "swish") return Activation::kSilu;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast" || name == "gelu_tanh")
    return Activation::kGeluTanh;
  if (name == "gelu") return Activation::kGelu;
  if (name == "relu") return Activation::kRelu;
  return Error::make(ErrorKind::kUnsupported, "config.json: unsupported activation '{}'", name);
}

Result<RopeType> parse_rope_type(const std::string& name) {
  if (name == "default" || name.empty()) return RopeType::kDefault;
  if (name == "linear") return RopeType::kLinear;
  if (name == "dynamic") return RopeType::kDynamic;
  if (name == "llama3") return RopeType::kLlama3;
  if (name == "yarn") return RopeType::kYarn;
  if (name == "longrope" || name == "su") return RopeType::kLongrope;
  return Error::make(ErrorKind::kUnsupported, "config.json: unsupported rope type '{}'", name);
}

// Reads one rope description. `params` is a transformers-5 rope_parameters entry or a
// transformers-4 rope_scaling dict (may be null); `theta` comes from the caller when the dict
// does not carry it. Only the fields the rope type uses are kept, so both layouts compare equal.
Result<RopeParameters> parse_rope(const json* params, double theta, const json& config) {
  RopeParameters rope;
  rope.theta = theta;
  if (!params) return rope;
  if (!params->is_object()) return Error::make(ErrorKind::kInvalidArgument, "config.json: rope parameters must be an object");
  TGI_ASSIGN_OR_RETURN(rope.theta, number_or(*params, "rope_theta", theta));
  std::string type_name;
  TGI_ASSIGN_OR_RETURN(type_name, string_or(*params, "rope_type", ""));
  if (type_name.empty()) { TGI_ASSIGN_OR_RETURN(type_name, string_or(*params, "type", "default")); }
  TGI_ASSIGN_OR_RETURN(rope.type, parse_rope_type(type_name));
  if (rope.type == RopeType::kDefault) return rope;

  TGI_ASSIGN_OR_RETURN(rope.factor, number_or(*params, "factor", 1.0));
  int64_t top_level_original = 0;
  TGI_ASSIGN_OR_RETURN(top_level_original, integer_or(config, "original_max_position_embeddings", 0));
  TGI_ASSIGN_OR_RETURN(rope.original_max_position_embeddings,
                       integer_or(*params, "original_max_position_embeddings", top_level_original));
  if (rope.type == RopeType::kLinear) rope.original_max_position_embeddings = 0;
  if (rope.type == RopeType::kLlama3) {
    TGI_ASSIGN_OR_RETURN(rope.low_freq_factor, number_or(*params, "low_freq_factor", 1.0));
    TGI_ASSIGN_OR_RETURN(rope.high_freq_factor, number_or(*params, "high_freq_factor", 4.0));
  }
  if (rope.type == RopeType::kYarn) {
    TGI_ASSIGN_OR_RETURN(rope.beta_fast, number_or(*params, "beta_fast", 32.0));
    TGI_ASSIGN_OR_RETURN(rope.beta_slow, number_or(*params, "beta_slow", 1.0));
    TGI_ASSIGN_OR_RETURN(rope.mscale, number_or(*params, "mscale", 0.0));
    TGI_ASSIGN_OR_RETURN(rope.mscale_all_dim, number_or(*params, "mscale_all_dim", 0.0));
    TGI_ASSIGN_OR_RETURN(rope.truncate, bool_or(*params, "truncate", true));
  }
  if (rope.type == RopeType::kYarn || rope.type == RopeType::kLongrope) {
    if (const json* af = field(*params, "attention_factor")) {
      if (!af->is_number()) return Error::make(ErrorKind::kInvalidArgument, "config.json: attention_factor must be a number");
      rope.attention_factor = af->get<double>();
    }
  }
  if (rope.type == RopeType::kLongrope) {
    rope.factor = 1.0;  // longrope derives its factor from the context lengths
    TGI_ASSIGN_OR_RETURN(rope.short_factor, double_list(*params, "short_factor"));
    TGI_ASSIGN_OR_RETURN(rope.long_factor, double_list(*params, "long_factor"));
  }
  return rope;
}

// True when a transformers-5 rope_parameters dict is keyed by layer type (gemma3).
bool rope_parameters_per_layer_type(const json& rp) {
  return rp.is_object() && (rp.contains("full_attention") || rp.contains("sliding_attention"));
}

Result<LayerType> parse_layer_type(const json& v) {
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "full_attention") return LayerType::kFullAttention;
    if (s == "sliding_attention") return LayerType::kSlidingAttention;
    if (s == "chunked_attention") return LayerType::kChunkedAttention;
    return Error::make(ErrorKind::kUnsupported, "config.json: unsupported layer type '{}'", s);
  }
  return Error::make(ErrorKind::kInvalidArgument, "config.json: layer_types must hold strings");
}

Result<std::vector<int64_t>> int_list(const json& j, const char* key) {
  std::vector<int64_t> out;
  const json* v = field(j, key);
  if (!v) return out;
  if (!v->is_array()) return Error::make(ErrorKind::kInvalidArgument, "config.json: '{}' must be a list of integers", key);
  for (const auto& e : *v) {
    if (!e.is_number_integer()) return Error::make(ErrorKind::kInvalidArgument, "config.json: '{}' must be a list of integers", key);
    out.push_back(e.get<int64_t>());
  }
  return out;
}

const std::map<std::string, std::string>& model_type_aliases() {
  // model_type spellings that denote the same text model.
  static const std::map<std::string, std::string> aliases = {{"gemma3", "gemma3_text"}, {"llama4", "llama4_text"}};
  return aliases;
}

const std::map<std::string, std::string>& architecture_to_model_type() {
  static const std::map<std::string, std::string> m = {
      {"LlamaForCausalLM", "llama"},        {"MistralForCausalLM", "mistral"},
      {"Qwen2ForCausalLM", "qwen2"},        {"Qwen3ForCausalLM", "qwen3"},
      {"GemmaForCausalLM", "gemma"},        {"Gemma2ForCausalLM", "gemma2"},
      {"Gemma3ForCausalLM", "gemma3_text"}, {"Phi3ForCausalLM", "phi3"},
      {"PhiForCausalLM", "phi"},            {"GPT2LMHeadModel", "gpt2"},
      {"Starcoder2ForCausalLM", "starcoder2"}, {"GraniteForCausalLM", "granite"},
      {"Olmo2ForCausalLM", "olmo2"},        {"SmolLM3ForCausalLM", "smollm3"},
      {"CohereForCausalLM", "cohere"},      {"MixtralForCausalLM", "mixtral"},
      {"Qwen2MoeForCausalLM", "qwen2_moe"}, {"Qwen3MoeForCausalLM", "qwen3_moe"},
      {"Llama4ForCausalLM", "llama4_text"}, {"GptOssForCausalLM", "gpt_oss"},
      {"DeepseekV3ForCausalLM", "deepseek_v3"},
  };
  return m;
}

// Per-layer tables are sized from this count before validate() runs, so bound it when it is read.
Result<int64_t> layer_count(const json& j, const char* key, int64_t fallback) {
  TGI_ASSIGN_OR_RETURN(int64_t n, integer_or(j, key, fallback));
  constexpr int64_t kMaxLayers = 1 << 16;
  if (n < 0 || n > kMaxLayers)
    return Error::make(ErrorKind::kInvalidArgument, "config.json: '{}' must be in [0, {}], got {}", key, kMaxLayers, n);
  return n;
}

// Fills the sizes shared by the llama-like families (everything except gpt2's n_* names).
Result<void> read_common_sizes(const json& j, ModelConfig& c) {
  TGI_ASSIGN_OR_RETURN(c.vocab_size, integer_or(j, "vocab_size", 0));
  TGI_ASSIGN_OR_RETURN(c.hidden_size, integer_or(j, "hidden_size", 0));
  TGI_ASSIGN_OR_RETURN(c.intermediate_size, integer_or(j, "intermediate_size", 0));
  TGI_ASSIGN_OR_RETURN(c.num_hidden_layers, layer_count(j, "num_hidden_layers", 0));
  TGI_ASSIGN_OR_RETURN(c.num_attention_heads, integer_or(j, "num_attention_heads", 0));
  TGI_ASSIGN_OR_RETURN(c.num_key_value_heads, integer_or(j, "num_key_value_heads", c.num_attention_heads));
  const int64_t derived_head_dim = c.num_attention_heads > 0 ? c.hidden_size / c.num_attention_heads : 0;
  TGI_ASSIGN_OR_RETURN(c.head_dim, integer_or(j, "head_dim", derived_head_dim));
  TGI_ASSIGN_OR_RETURN(c.max_position_embeddings, integer_or(j, "max_position_embeddings", 2048));
  std::string act;
  TGI_ASSIGN_OR_RETURN(act, string_or(j, "hidden_act", "silu"));
  TGI_ASSIGN_OR_RETURN(c.hidden_act, parse_activation(act));
  TGI_ASSIGN_OR_RETURN(c.norm_eps, number_or(j, "rms_norm_eps", 1e-6));
  return {};
}

// Default rope, layer types and per-layer NoPE flags; architectures override afterwards.
Result<void> read_rope(const json& j, ModelConfig& c, double default_theta) {
  TGI_ASSIGN_OR_RETURN(c.partial_rotary_factor, number_or(j, "partial_rotary_factor", 1.0));
  const json* rp = field(j, "rope_parameters");
  if (rp && rope_parameters_per_layer_type(*rp)) {
    const json* full = field(*rp, "full_attention");
    const json* sliding = field(*rp, "sliding_attention");
    TGI_ASSIGN_OR_RETURN(c.rope, parse_rope(full, default_theta, j));
    TGI_ASSIGN_OR_RETURN(c.rope_sliding, parse_rope(sliding ? sliding : full, default_theta, j));
    return {};
  }
  if (rp) {
    TGI_ASSIGN_OR_RETURN(c.partial_rotary_factor, number_or(*rp, "partial_rotary_factor", c.partial_rotary_factor));
    TGI_ASSIGN_OR_RETURN(c.rope, parse_rope(rp, default_theta, j));
  } else {
    double theta = default_theta;
    TGI_ASSIGN_OR_RETURN(theta, number_or(j, "rope_theta", default_theta));
    TGI_ASSIGN_OR_RETURN(c.rope, parse_rope(field(j, "rope_scaling"), theta, j));
  }
  c.rope_sliding = c.rope;
  return {};
}

Result<void> read_layer_types(const json& j, ModelConfig& c, const std::vector<LayerType>& fallback) {
  if (const json* lt = field(j, "layer_types")) {
    if (!lt->is_array() || static_cast<int64_t>(lt->size()) != c.num_hidden_layers)
      return Error::make(ErrorKind::kInvalidArgument, "config.json: layer_types must list {} entries",
                         c.num_hidden_layers);
    c.layer_types.clear();
    for (const auto& v : *lt) {
      TGI_ASSIGN_OR_RETURN(LayerType t, parse_layer_type(v));
      c.layer_types.push_back(t);
    }
  } else {
    c.layer_types = fallback;
  }
  return {};
}

std::vector<LayerType> all_layers(const ModelConfig& c, LayerType t) {
  return std::vector<LayerType>(static_cast<size_t>(std::max<int64_t>(c.num_hidden_layers, 0)), t);
}

// HF's "every n-th layer is full attention" pattern (gemma2 n=2, gemma3 n=6, gpt_oss n=2).
std::vector<LayerType> sliding_pattern(const ModelConfig& c, int64_t n) {
  std::vector<LayerType> out;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    out.push_back((n > 0 && (i + 1) % n != 0) ? LayerType::kSlidingAttention : LayerType::kFullAttention);
  return out;
}

// NoPE layers: explicit no_rope_layers (1 = uses rope), else every interval-th layer skips rope.
Result<void> read_no_rope_layers(const json& j, ModelConfig& c, int64_t default_interval) {
  TGI_ASSIGN_OR_RETURN(std::vector<int64_t> flags, int_list(j, "no_rope_layers"));
  c.layer_uses_rope.clear();
  if (!flags.empty()) {
    if (static_cast<int64_t>(flags.size()) != c.num_hidden_layers)
      return Error::make(ErrorKind::kInvalidArgument, "config.json: no_rope_layers must list {} entries",
                         c.num_hidden_layers);
    for (int64_t f : flags) c.layer_uses_rope.push_back(f != 0);
    return {};
  }
  TGI_ASSIGN_OR_RETURN(int64_t interval, integer_or(j, "no_rope_layer_interval", default_interval));
  for (int64_t i = 0; i < c.num_hidden_layers; ++i)
    c.layer_uses_rope.push_back(interval <= 0 || (i + 1) % interval != 0);
  return {};
}

Result<void> read_moe_experts(const json& j, ModelConfig& c) {
  int64_t n = 0;
  TGI_ASSIGN_OR_RETURN(n, integer_or(j, "num_local_experts", 0));
  if (n == 0) { TGI_ASSIGN_OR_RETURN(n, integer_or(j, "num_experts", 0)); }
  if (n == 0) { TGI_ASSIGN_OR_RETURN(n, integer_or(j, "n_routed_experts", 0)); }
  c.num_experts = n;
  TGI_ASSIGN_OR_RETURN(c.num_experts_per_tok, integer_or(j, "num_experts_per_tok", 2));
  TGI_ASSIGN_OR_RETURN(c.moe_intermediate_size, integer_or(j, "moe_intermediate_size", c.intermediate_size));
  return {};
}

// Per-architecture differences. Each block states only what departs from the llama defaults.
Result<void> apply_architecture(const json& j, ModelConfig& c) {
  const std::string& t = c.model_type;
  const bool qwen_family = t == "qwen2" || t == "qwen3" || t == "qwen2_moe" || t == "qwen3_moe";

  if (t == "gpt2") {
    TGI_ASSIGN_OR_RETURN(c.vocab_size, integer_or(j, "vocab_size", 50257));
    TGI_ASSIGN_OR_RETURN(c.hidden_size, integer_or(j, "n_embd", 768));
    TGI_ASSIGN_OR_RETURN(c.num_hidden_layers, layer_count(j, "n_layer", 12));
    TGI_ASSIGN_OR_RETURN(c.num_attention_heads, integer_or(j, "n_head", 12));
    c.num_key_value_heads = c.num_attention_heads;  // gpt2 is plain multi-head attention
    c.head_dim = c.num_attention_heads > 0 ? c.hidden_size / c.num_attention_heads : 0;
    TGI_ASSIGN_OR_RETURN(c.intermediate_size, integer_or(j, "n_inner", 4 * c.hidden_size));
    TGI_ASSIGN_OR_RETURN(c.max_position_embeddings, integer_or(j, "n_positions", 1024));
    TGI_ASSIGN_OR_RETURN(c.norm_eps, number_or(j, "layer_norm_epsilon", 1e-5));
    TGI_ASSIGN_OR_RETURN(std::string act, string_or(j, "activation_function", "gelu_new"));
    TGI_ASSIGN_OR_RETURN(c.hidden_act, parse_activation(act));
    c.norm_type = NormType::kLayerNorm;
    c.mlp_style = MlpStyle::kUngated;
    c.qkv_bias = c.o_proj_bias = c.mlp_bias = true;
    c.learned_positions = true;
    TGI_ASSIGN_OR_RETURN(c.tie_word_embeddings, bool_or(j, "tie_word_embeddings", true));
    TGI_ASSIGN_OR_RETURN(bool by_layer, bool_or(j, "scale_attn_by_inverse_layer_idx", false));
    TGI_ASSIGN_OR_RETURN(bool scale_weights, bool_or(j, "scale_attn_weights", true));
    if (by_layer || !scale_weights)
      return Error::make(ErrorKind::kUnsupported, "gpt2: scale_attn_by_inverse_layer_idx / unscaled attention are not supported");
    c.layer_types = all_layers(c, LayerType::kFullAttention);
    c.layer_uses_rope.assign(static_cast<size_t>(c.num_hidden_layers), false);
    c.layer_is_moe.assign(static_cast<size_t>(c.num_hidden_layers), false);
    return {};
  }

  TGI_TRY(read_common_sizes(j, c));
  TGI_TRY(read_rope(j, c, 10000.0));
  TGI_ASSIGN_OR_RETURN(c.sliding_window, integer_or(j, "sliding_window", 0));
  TGI_ASSIGN_OR_RETURN(bool attention_bias, bool_or(j, "attention_bias", false));
  c.qkv_bias = c.o_proj_bias = attention_bias;
  TGI_ASSIGN_OR_RETURN(c.mlp_bias, bool_or(j, "mlp_bias", false));
  bool tie_default = false;
  std::vector<LayerType> default_layers =
      all_layers(c, c.sliding_window > 0 ? LayerType::kSlidingAttention : LayerType::kFullAttention);
  c.layer_uses_rope.assign(static_cast<size_t>(std::max<int64_t>(c.num_hidden_layers, 0)), true);

  if (t == "llama" || t == "mistral" || t == "mixtral") {
    // defaults
  } else if (qwen_family) {
    if (t == "qwen2" || t == "qwen2_moe") {
      c.qkv_bias = true;  // qwen2 always has q/k/v bias, never an o_proj bias
      TGI_ASSIGN_OR_RETURN(c.qkv_bias, bool_or(j, "qkv_bias", true));
      c.o_proj_bias = false;
    }
    if (t == "qwen3" || t == "qwen3_moe") c.qk_norm = QkNorm::kPerHead;
    TGI_ASSIGN_OR_RETURN(bool use_sliding, bool_or(j, "use_sliding_window", false));
    TGI_ASSIGN_OR_RETURN(int64_t max_window_layers, integer_or(j, "max_window_layers", 28));
    if (!use_sliding) c.sliding_window = 0;
    default_layers = all_layers(c, LayerType::kFullAttention);
    for (int64_t i = 0; i < c.num_hidden_layers; ++i)
      if (use_sliding && c.sliding_window > 0 && i >= max_window_layers)
        default_layers[i] = LayerType::kSlidingAttention;
  } else if (t == "gemma" || t == "gemma2" || t == "gemma3_text") {
    tie_default = true;
    c.norm_type = NormType::kRmsNormOnePlus;
    c.embedding_multiplier = std::sqrt(static_cast<double>(c.hidden_size));
    TGI_ASSIGN_OR_RETURN(std::string act, string_or(j, "hidden_activation", "gelu_pytorch_tanh"));
    TGI_ASSIGN_OR_RETURN(c.hidden_act, parse_activation(act));
    if (t != "gemma") {
      c.block_style = BlockStyle::kSandwich;
      TGI_ASSIGN_OR_RETURN(c.query_pre_attn_scalar, number_or(j, "query_pre_attn_scalar", 256.0));
      TGI_ASSIGN_OR_RETURN(c.attn_logit_softcapping, number_or(j, "attn_logit_softcapping", 0.0));
      TGI_ASSIGN_OR_RETURN(c.final_logit_softcapping, number_or(j, "final_logit_softcapping", 0.0));
    }
    if (t == "gemma2") default_layers = sliding_pattern(c, 2);
    if (t == "gemma3_text") {
      c.qk_norm = QkNorm::kPerHead;
      int64_t pattern = 6;
      TGI_ASSIGN_OR_RETURN(pattern, integer_or(j, "_sliding_window_pattern", 6));
      TGI_ASSIGN_OR_RETURN(pattern, integer_or(j, "sliding_window_pattern", pattern));
      default_layers = sliding_pattern(c, pattern);
      const json* rp = field(j, "rope_parameters");
      if (!(rp && rope_parameters_per_layer_type(*rp))) {
        // transformers 4: rope_scaling belongs to global layers; local layers use their own base.
        TGI_ASSIGN_OR_RETURN(double local_base, number_or(j, "rope_local_base_freq", 10000.0));
        c.rope_sliding = RopeParameters{};
        c.rope_sliding.theta = local_base;
        if (rp) c.rope_sliding = c.rope;  // flat rope_parameters: one rope for all layers
      }
    }
  } else if (t == "phi3") {
    // Fused qkv_proj / gate_up_proj are split at load; nothing else departs from llama.
  } else if (t == "phi") {
    TGI_ASSIGN_OR_RETURN(c.norm_eps, number_or(j, "layer_norm_eps", 1e-5));
    c.norm_type = NormType::kLayerNorm;
    c.block_style = BlockStyle::kParallel;
    c.mlp_style = MlpStyle::kUngated;
    c.qkv_bias = c.o_proj_bias = c.mlp_bias = c.lm_head_bias = true;
    TGI_ASSIGN_OR_RETURN(bool qk_layernorm, bool_or(j, "qk_layernorm", false));
    if (qk_layernorm) return Error::make(ErrorKind::kUnsupported, "phi: qk_layernorm is not supported");
  } else if (t == "starcoder2") {
    TGI_ASSIGN_OR_RETURN(c.norm_eps, number_or(j, "norm_epsilon", 1e-5));
    c.norm_type = NormType::kLayerNorm;
    c.mlp_style = MlpStyle::kUngated;
    TGI_ASSIGN_OR_RETURN(bool use_bias, bool_or(j, "use_bias", true));
    c.qkv_bias = c.o_proj_bias = c.mlp_bias = use_bias;
    tie_default = true;
  } else if (t == "granite") {
    TGI_ASSIGN_OR_RETURN(c.embedding_multiplier, number_or(j, "embedding_multiplier", 1.0));
    TGI_ASSIGN_OR_RETURN(c.attention_multiplier, number_or(j, "attention_multiplier", 1.0));
    TGI_ASSIGN_OR_RETURN(c.residual_multiplier, number_or(j, "residual_multiplier", 1.0));
    TGI_ASSIGN_OR_RETURN(double logits_scaling, number_or(j, "logits_scaling", 1.0));
    if (logits_scaling == 0.0) return Error::make(ErrorKind::kInvalidArgument, "granite: logits_scaling must not be 0");
    c.logits_multiplier = 1.0 / logits_scaling;
  } else if (t == "olmo2") {
    c.block_style = BlockStyle::kPostNorm;
    c.qk_norm = QkNorm::kFullWidth;
  } else if (t == "smollm3") {
    TGI_TRY(read_no_rope_layers(j, c, 4));
    TGI_ASSIGN_OR_RETURN(bool use_sliding, bool_or(j, "use_sliding_window", false));
    if (!use_sliding) c.sliding_window = 0;
    default_layers = all_layers(c, LayerType::kFullAttention);
  } else if (t == "cohere") {
    tie_default = true;
    TGI_ASSIGN_OR_RETURN(c.norm_eps, number_or(j, "layer_norm_eps", 1e-5));
    c.norm_type = NormType::kLayerNormNoBias;
    c.block_style = BlockStyle::kParallel;
    c.rope_interleaved = true;
    TGI_ASSIGN_OR_RETURN(c.logits_multiplier, number_or(j, "logit_scale", 0.0625));
    TGI_ASSIGN_OR_RETURN(bool use_qk_norm, bool_or(j, "use_qk_norm", false));
    if (use_qk_norm) return Error::make(ErrorKind::kUnsupported, "cohere: use_qk_norm is not supported");
  } else if (t == "llama4_text") {
    c.rope_interleaved = true;
    TGI_ASSIGN_OR_RETURN(bool use_qk_norm, bool_or(j, "use_qk_norm", true));
    if (use_qk_norm) c.qk_norm = QkNorm::kL2;
    TGI_TRY(read_no_rope_layers(j, c, 4));
    TGI_ASSIGN_OR_RETURN(c.attention_chunk_size, integer_or(j, "attention_chunk_size", 8192));
    default_layers.clear();
    for (bool uses_rope : c.layer_uses_rope)
      default_layers.push_back(uses_rope ? LayerType::kChunkedAttention : LayerType::kFullAttention);
    TGI_ASSIGN_OR_RETURN(c.attn_temperature_tuning, bool_or(j, "attn_temperature_tuning", true));
    TGI_ASSIGN_OR_RETURN(c.floor_scale, number_or(j, "floor_scale", 8192.0));
    TGI_ASSIGN_OR_RETURN(c.attn_scale, number_or(j, "attn_scale", 0.1));
    TGI_ASSIGN_OR_RETURN(c.dense_intermediate_size, integer_or(j, "intermediate_size_mlp", c.intermediate_size));
    c.router_scoring = RouterScoring::kSigmoid;
    c.num_shared_experts = 1;
    c.moe_weight_on_input = true;
  } else if (t == "gpt_oss") {
    c.attention_sinks = true;
    c.swiglu_limit = 7.0;
    TGI_ASSIGN_OR_RETURN(c.swiglu_limit, number_or(j, "swiglu_limit", 7.0));
    default_layers = sliding_pattern(c, 2);
  } else if (t == "deepseek_v3") {
    c.rope_interleaved = true;
    TGI_ASSIGN_OR_RETURN(c.rope_interleaved, bool_or(j, "rope_interleave", true));
    TGI_ASSIGN_OR_RETURN(c.q_lora_rank, integer_or(j, "q_lora_rank", 0));
    TGI_ASSIGN_OR_RETURN(c.kv_lora_rank, integer_or(j, "kv_lora_rank", 512));
    TGI_ASSIGN_OR_RETURN(c.qk_rope_head_dim, integer_or(j, "qk_rope_head_dim", 64));
    TGI_ASSIGN_OR_RETURN(c.qk_nope_head_dim, integer_or(j, "qk_nope_head_dim", 128));
    TGI_ASSIGN_OR_RETURN(c.v_head_dim, integer_or(j, "v_head_dim", 128));
    c.head_dim = c.qk_rope_head_dim;  // the rotary part: what rope tables are built for
    TGI_ASSIGN_OR_RETURN(c.num_shared_experts, integer_or(j, "n_shared_experts", 1));
    TGI_ASSIGN_OR_RETURN(c.n_group, integer_or(j, "n_group", 1));
    TGI_ASSIGN_OR_RETURN(c.topk_group, integer_or(j, "topk_group", 1));
    TGI_ASSIGN_OR_RETURN(c.routed_scaling_factor, number_or(j, "routed_scaling_factor", 1.0));
    c.router_scoring = RouterScoring::kSigmoid;
  } else {
    return Error::make(ErrorKind::kInternal, "no architecture description for '{}'", t);
  }
  TGI_ASSIGN_OR_RETURN(c.tie_word_embeddings, bool_or(j, "tie_word_embeddings", tie_default));
  TGI_TRY(read_layer_types(j, c, default_layers));

  // Mixture of experts: which layers route, and how.
  if (t == "mixtral" || t == "qwen2_moe" || t == "qwen3_moe" || t == "llama4_text" || t == "gpt_oss" ||
      t == "deepseek_v3") {
    TGI_TRY(read_moe_experts(j, c));
    c.layer_is_moe.assign(static_cast<size_t>(c.num_hidden_layers), true);
    c.norm_topk_prob = true;  // mixtral, gpt_oss: softmax over the chosen experts
    if (t == "qwen2_moe" || t == "qwen3_moe" || t == "deepseek_v3") {
      TGI_ASSIGN_OR_RETURN(c.norm_topk_prob, bool_or(j, "norm_topk_prob", t != "qwen2_moe"));
    }
    if (t == "llama4_text") c.norm_topk_prob = false;
    if (t == "qwen2_moe" || t == "qwen3_moe") {
      TGI_ASSIGN_OR_RETURN(int64_t sparse_step, integer_or(j, "decoder_sparse_step", 1));
      TGI_ASSIGN_OR_RETURN(std::vector<int64_t> mlp_only, int_list(j, "mlp_only_layers"));
      for (int64_t i = 0; i < c.num_hidden_layers; ++i)
        c.layer_is_moe[i] = std::find(mlp_only.begin(), mlp_only.end(), i) == mlp_only.end() && sparse_step > 0 &&
                            (i + 1) % sparse_step == 0 && c.num_experts > 0;
      if (t == "qwen2_moe") {
        TGI_ASSIGN_OR_RETURN(c.shared_expert_intermediate_size, integer_or(j, "shared_expert_intermediate_size", 0));
      }
    }
    if (t == "llama4_text") {
      c.moe_intermediate_size = c.intermediate_size;
      TGI_ASSIGN_OR_RETURN(std::vector<int64_t> moe_layers, int_list(j, "moe_layers"));
      if (!field(j, "moe_layers")) {
        TGI_ASSIGN_OR_RETURN(int64_t step, integer_or(j, "interleave_moe_layer_step", 1));
        for (int64_t i = step - 1; step > 0 && i < c.num_hidden_layers; i += step) moe_layers.push_back(i);
      }
      c.layer_is_moe.assign(static_cast<size_t>(c.num_hidden_layers), false);
      for (int64_t i : moe_layers)
        if (i >= 0 && i < c.num_hidden_layers) c.layer_is_moe[i] = true;
    }
    if (t == "deepseek_v3") {
      TGI_ASSIGN_OR_RETURN(int64_t first_dense, integer_or(j, "first_k_dense_replace", 0));
      TGI_ASSIGN_OR_RETURN(int64_t freq, integer_or(j, "moe_layer_freq", 1));
      for (int64_t i = 0; i < c.num_hidden_layers; ++i)
        c.layer_is_moe[i] = c.num_experts > 0 && i >= first_dense && freq > 0 && i % freq == 0;
    }
  } else {
    c.layer_is_moe.assign(static_cast<size_t>(c.num_hidden_layers), false);
  }
  return {};
}

Result<void> validate(const ModelConfig& c) {
  auto positive = [&](int64_t v, const char* name) -> Result<void> {
    if (v <= 0) return Error::make(ErrorKind::kInvalidArgument, "config.json ({}): '{}' must be positive", c.model_type, name);
    return {};
  };
  TGI_TRY(positive(c.vocab_size, "vocab_size"));
  TGI_TRY(positive(c.hidden_size, "hidden_size"));
  TGI_TRY(positive(c.num_hidden_layers, "num_hidden_layers"));
  TGI_TRY(positive(c.num_attention_heads, "num_attention_heads"));
  TGI_TRY(positive(c.num_key_value_heads, "num_key_value_heads"));
  TGI_TRY(positive(c.head_dim, "head_dim"));
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    return Error::make(ErrorKind::kInvalidArgument, "config.json: num_attention_heads ({}) is not a multiple of num_key_value_heads ({})",
                       c.num_attention_heads, c.num_key_value_heads);
  // Bound sizes so that products cannot overflow downstream (hostile configs).
  const int64_t kLimit = int64_t{1} << 24;
  for (int64_t v : {c.vocab_size, c.hidden_size, c.intermediate_size, c.num_hidden_layers, c.num_attention_heads,
                    c.head_dim, c.num_experts, c.moe_intermediate_size})
    if (v < 0 || v > kLimit) return Error::make(ErrorKind::kInvalidArgument, "config.json: a size is out of range ({})", v);
  if (c.partial_rotary_factor <= 0.0 || c.partial_rotary_factor > 1.0)
    return Error::make(ErrorKind::kInvalidArgument, "config.json: partial_rotary_factor must be in (0, 1]");
  if (c.num_experts > 0 && (c.num_experts_per_tok <= 0 || c.num_experts_per_tok > c.num_experts))
    return Error::make(ErrorKind::kInvalidArgument, "config.json: num_experts_per_tok must be in [1, num_experts]");
  if (c.norm_eps < 0) return Error::make(ErrorKind::kInvalidArgument, "config.json: negative norm epsilon");
  return {};
}

}  // namespace

const std::vector<std::string>& supported_model_types() {
  static const std::vector<std::string> types = {
      "llama",  "mistral", "qwen2",     "qwen3",     "gemma",       "gemma2",  "gemma3_text",
      "phi3",   "phi",     "gpt2",      "starcoder2", "granite",    "olmo2",   "smollm3",
      "cohere", "mixtral", "qwen2_moe", "qwen3_moe", "llama4_text", "gpt_oss", "deepseek_v3"};
  return types;
}

Result<ModelConfig> parse_model_config(const json& j) {
  if (!j.is_object()) return Error::make(ErrorKind::kInvalidArgument, "config.json: expected a JSON object");
  ModelConfig c;
  TGI_ASSIGN_OR_RETURN(c.model_type, string_or(j, "model_type", ""));
  if (const json* archs = field(j, "architectures"); archs && archs->is_array() && !archs->empty() &&
                                                      (*archs)[0].is_string())
    c.architecture = (*archs)[0].get<std::string>();
  if (c.model_type.empty()) {
    auto it = architecture_to_model_type().find(c.architecture);
    if (it != architecture_to_model_type().end()) c.model_type = it->second;
  }
  if (auto it = model_type_aliases().find(c.model_type); it != model_type_aliases().end()) c.model_type = it->second;
  const auto& supported = supported_model_types();
  if (std::find(supported.begin(), supported.end(), c.model_type) == supported.end())
    return Error::make(ErrorKind::kUnsupported, "unsupported architecture '{}' (architectures: '{}'); supported model types: {}",
                       c.model_type, c.architecture, fmt::join(supported, ", "));

  TGI_ASSIGN_OR_RETURN(c.torch_dtype, string_or(j, "dtype", ""));
  if (c.torch_dtype.empty()) { TGI_ASSIGN_OR_RETURN(c.torch_dtype, string_or(j, "torch_dtype", "")); }
  TGI_ASSIGN_OR_RETURN(c.bos_token_id, optional_id(j, "bos_token_id"));
  TGI_ASSIGN_OR_RETURN(c.eos_token_ids, id_list(j, "eos_token_id"));
  TGI_ASSIGN_OR_RETURN(c.pad_token_id, optional_id(j, "pad_token_id"));

  TGI_TRY(apply_architecture(j, c));
  TGI_TRY(validate(c));
  return c;
}

namespace {
Result<json> read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::make(ErrorKind::kNotFound, "cannot open {}", path.string());
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error::make(ErrorKind::kInvalidArgument, "{} is not valid JSON", path.string());
  return j;
}
}  // namespace

Result<ModelConfig> load_model_config(const std::filesystem::path& model_dir) {
  TGI_ASSIGN_OR_RETURN(json j, read_json_file(model_dir / "config.json"));
  auto config = parse_model_config(j);
  if (!config.ok())
    return Error{config.error().kind, fmt::format("{}: {}", (model_dir / "config.json").string(), config.error().message)};
  return config;
}

Result<GenerationConfig> parse_generation_config(const json& j) {
  if (!j.is_object()) return Error::make(ErrorKind::kInvalidArgument, "generation_config.json: expected a JSON object");
  GenerationConfig g;
  TGI_ASSIGN_OR_RETURN(g.bos_token_id, optional_id(j, "bos_token_id"));
  TGI_ASSIGN_OR_RETURN(g.eos_token_ids, id_list(j, "eos_token_id"));
  TGI_ASSIGN_OR_RETURN(g.pad_token_id, optional_id(j, "pad_token_id"));
  if (const json* v = field(j, "do_sample"); v && v->is_boolean()) g.do_sample = v->get<bool>();
  auto opt_number = [&](const char* key, std::optional<double>& out) -> Result<void> {
    if (const json* v = field(j, key)) {
      if (!v->is_number()) return Error::make(ErrorKind::kInvalidArgument, "generation_config.json: '{}' must be a number", key);
      out = v->get<double>();
    }
    return {};
  };
  auto opt_int = [&](const char* key, std::optional<int64_t>& out) -> Result<void> {
    if (const json* v = field(j, key)) {
      if (!v->is_number_integer()) return Error::make(ErrorKind::kInvalidArgument, "generation_config.json: '{}' must be an integer", key);
      out = v->get<int64_t>();
    }
    return {};
  };
  TGI_TRY(opt_number("temperature", g.temperature));
  TGI_TRY(opt_number("top_p", g.top_p));
  TGI_TRY(opt_int("top_k", g.top_k));
  TGI_TRY(opt_number("repetition_penalty", g.repetition_penalty));
  TGI_TRY(opt_int("max_new_tokens", g.max_new_tokens));
  TGI_TRY(opt_int("max_length", g.max_length));
  return g;
}

Result<GenerationConfig> load_generation_config(const std::filesystem::path& model_dir) {
  const auto path = model_dir / "generation_config.json";
  if (!std::filesystem::exists(path)) return GenerationConfig{};
  TGI_ASSIGN_OR_RETURN(json j, read_json_file(path));
  return parse_generation_config(j);
}

double ModelConfig::attention_scale() const {
  if (attention_multiplier != 0.0) return attention_multiplier;
  if (query_pre_attn_scalar > 0.0) return 1.0 / std::sqrt(query_pre_attn_scalar);
  if (kv_lora_rank > 0) {
    double scale = 1.0 / std::sqrt(static_cast<double>(qk_nope_head_dim + qk_rope_head_dim));
    if (rope.type == RopeType::kYarn && rope.mscale_all_dim > 0.0 && rope.factor > 1.0) {
      const double m = 0.1 * rope.mscale_all_dim * std::log(rope.factor) + 1.0;
      scale *= m * m;
    }
    return scale;
  }
  return 1.0 / std::sqrt(static_cast<double>(head_dim));
}

int64_t ModelConfig::rotary_dim() const {
  const auto d = static_cast<int64_t>(static_cast<double>(head_dim) * partial_rotary_factor);
  return d - (d % 2);
}

const char* to_string(RopeType type) {
  switch (type) {
    case RopeType::kDefault: return "default";
    case RopeType::kLinear: return "linear";
    case RopeType::kDynamic: return "dynamic";
    case RopeType::kLlama3: return "llama3";
    case RopeType::kYarn: return "yarn";
    case RopeType::kLongrope: return "longrope";
  }
  return "?";
}

const char* to_string(LayerType type) {
  switch (type) {
    case LayerType::kFullAttention: return "full_attention";
    case LayerType::kSlidingAttention: return "sliding_attention";
    case LayerType::kChunkedAttention: return "chunked_attention";
  }
  return "?";
}

const char* to_string(Activation activation) {
  switch (activation) {
    case Activation::kSilu: return "silu";
    case Activation::kGeluTanh: return "gelu_tanh";
    case Activation::kGelu: return "gelu";
    case Activation::kRelu: return "relu";
  }
  return "?";
}

}  // namespace tgi::model
