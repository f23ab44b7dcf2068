#include "formats/gguf_hf_config.h"

#include "formats/gguf_names.h"

namespace tgi::formats {
namespace {

std::string hf_architecture_class(const std::string& model_type) {
  if (model_type == "llama") return "LlamaForCausalLM";
  if (model_type == "qwen2") return "Qwen2ForCausalLM";
  if (model_type == "qwen3") return "Qwen3ForCausalLM";
  return "";
}

std::optional<int64_t> optional_int(const GgufFile& file, const std::string& key) {
  const GgufValue* v = file.find_value(key);
  return v ? v->as_int() : std::nullopt;
}

}  // namespace

Result<nlohmann::json> gguf_to_hf_config(const GgufFile& file) {
  TGI_ASSIGN_OR_RETURN(std::string arch, file.architecture());
  const auto model_type = model_type_for_gguf_architecture(arch);
  if (!model_type) return Error::make(ErrorKind::kUnsupported, "GGUF architecture '{}' is not supported", arch);
  TGI_ASSIGN_OR_RETURN(int64_t hidden, file.get_int(arch + ".embedding_length"));
  TGI_ASSIGN_OR_RETURN(int64_t layers, file.get_int(arch + ".block_count"));
  TGI_ASSIGN_OR_RETURN(int64_t heads, file.get_int(arch + ".attention.head_count"));
  TGI_ASSIGN_OR_RETURN(int64_t intermediate, file.get_int(arch + ".feed_forward_length"));
  if (hidden <= 0 || layers <= 0 || heads <= 0 || intermediate <= 0) {
    return Error::make(ErrorKind::kCorruptData, "GGUF hyper-parameters must be positive");
  }
  const int64_t kv_heads = optional_int(file, arch + ".attention.head_count_kv").value_or(heads);
  const int64_t head_dim = optional_int(file, arch + ".attention.key_length").value_or(hidden / heads);

  std::optional<int64_t> vocab = optional_int(file, arch + ".vocab_size");
  if (!vocab) {
    if (const GgufValue* tokens = file.find_value("tokenizer.ggml.tokens"); tokens && tokens->as_array()) {
      vocab = static_cast<int64_t>(tokens->as_array()->items.size());
    } else if (const GgufTensor* embd = file.find_tensor("token_embd.weight"); embd && embd->dims.size() == 2) {
      vocab = embd->dims[1];
    }
  }
  if (!vocab) return Error::make(ErrorKind::kCorruptData, "GGUF file gives no vocabulary size");

  nlohmann::json config = {
      {"model_type", *model_type},
      {"architectures", {hf_architecture_class(*model_type)}},
      {"hidden_size", hidden},
      {"intermediate_size", intermediate},
      {"num_hidden_layers", layers},
      {"num_attention_heads", heads},
      {"num_key_value_heads", kv_heads},
      {"head_dim", head_dim},
      {"vocab_size", *vocab},
      {"hidden_act", "silu"},
      {"tie_word_embeddings", file.find_tensor("output.weight") == nullptr},
      {"attention_bias", file.find_tensor("blk.0.attn_q.bias") != nullptr},
  };
  if (const auto context = optional_int(file, arch + ".context_length")) config["max_position_embeddings"] = *context;
  if (const GgufValue* eps = file.find_value(arch + ".attention.layer_norm_rms_epsilon"); eps && eps->as_double()) {
    config["rms_norm_eps"] = *eps->as_double();
  }
  const GgufValue* base = file.find_value(arch + ".rope.freq_base");
  config["rope_theta"] = base && base->as_double() ? *base->as_double() : 10000.0;
  if (const GgufValue* type = file.find_value(arch + ".rope.scaling.type"); type && type->as_string()) {
    const std::string& scaling = *type->as_string();
    if (scaling == "linear" || scaling == "yarn") {
      nlohmann::json rope = {{"rope_type", scaling}};
      if (const GgufValue* f = file.find_value(arch + ".rope.scaling.factor"); f && f->as_double()) rope["factor"] = *f->as_double();
      if (const auto original = optional_int(file, arch + ".rope.scaling.original_context_length")) {
        rope["original_max_position_embeddings"] = *original;
      }
      config["rope_scaling"] = rope;
    } else if (scaling != "none") {
      return Error::make(ErrorKind::kUnsupported, "GGUF rope scaling '{}' is not supported", scaling);
    }
  }
  if (const auto bos = optional_int(file, "tokenizer.ggml.bos_token_id")) config["bos_token_id"] = *bos;
  if (const auto eos = optional_int(file, "tokenizer.ggml.eos_token_id")) config["eos_token_id"] = *eos;
  if (const auto pad = optional_int(file, "tokenizer.ggml.padding_token_id")) config["pad_token_id"] = *pad;
  return config;
}

std::optional<HfTensorMapping> gguf_tensor_to_hf(const GgufFile& file, const GgufTensor& tensor) {
  auto hf_name = gguf_to_hf_tensor_name(tensor.name);
  if (!hf_name) return std::nullopt;
  HfTensorMapping mapping{std::move(*hf_name), 0};
  const auto arch = file.architecture();
  if (arch.ok() && gguf_permutes_qk(*arch)) {
    const QkRole role = gguf_qk_role(tensor.name);
    if (role != QkRole::kNone) {
      const auto heads = optional_int(file, *arch + ".attention.head_count");
      const auto kv_heads = optional_int(file, *arch + ".attention.head_count_kv");
      mapping.unpermute_heads = role == QkRole::kQuery ? heads.value_or(0) : kv_heads.value_or(heads.value_or(0));
    }
  }
  return mapping;
}

}  // namespace tgi::formats
