#include "formats/gguf_names.h"

#include <array>
#include <charconv>
#include <cstring>
#include <utility>

namespace tgi::formats {
namespace {

struct ArchitectureName {
  std::string_view model_type;
  std::string_view gguf;
};
// mistral checkpoints are llama-architecture GGUF files in llama.cpp.
constexpr std::array<ArchitectureName, 4> kArchitectures = {{
    {"llama", "llama"},
    {"mistral", "llama"},
    {"qwen2", "qwen2"},
    {"qwen3", "qwen3"},
}};

struct NamePair {
  std::string_view hf;
  std::string_view gguf;
};
constexpr std::array<NamePair, 3> kGlobalNames = {{
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
}};
// Suffixes after "model.layers.N." / "blk.N.".
constexpr std::array<NamePair, 17> kLayerNames = {{
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.o_proj.bias", "attn_output.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"mlp.gate_proj.bias", "ffn_gate.bias"},
    {"mlp.down_proj.bias", "ffn_down.bias"},
}};

// Splits "<prefix><N>.<rest>" into N and rest.
std::optional<std::pair<int64_t, std::string_view>> split_layer(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix) return std::nullopt;
  name.remove_prefix(prefix.size());
  int64_t layer = -1;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), layer);
  if (ec != std::errc() || end == name.data() || layer < 0 || *end != '.') return std::nullopt;
  // No leading zeros: "blk.03" must not alias "blk.3".
  if (name[0] == '0' && end - name.data() > 1) return std::nullopt;
  const size_t digits = static_cast<size_t>(end - name.data());
  return std::make_pair(layer, name.substr(digits + 1));
}

std::optional<std::string> translate(std::string_view name, bool to_gguf) {
  for (const auto& pair : kGlobalNames) {
    if (name == (to_gguf ? pair.hf : pair.gguf)) return std::string(to_gguf ? pair.gguf : pair.hf);
  }
  const std::string_view from_prefix = to_gguf ? "model.layers." : "blk.";
  const std::string_view to_prefix = to_gguf ? "blk." : "model.layers.";
  const auto split = split_layer(name, from_prefix);
  if (!split) return std::nullopt;
  for (const auto& pair : kLayerNames) {
    if (split->second == (to_gguf ? pair.hf : pair.gguf)) {
      return std::string(to_prefix) + std::to_string(split->first) + "." + std::string(to_gguf ? pair.gguf : pair.hf);
    }
  }
  return std::nullopt;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<std::string> gguf_architecture_for_model_type(std::string_view model_type) {
  for (const auto& a : kArchitectures) {
    if (a.model_type == model_type) return std::string(a.gguf);
  }
  return std::nullopt;
}

std::optional<std::string> model_type_for_gguf_architecture(std::string_view architecture) {
  for (const auto& a : kArchitectures) {
    if (a.gguf == architecture) return std::string(a.model_type);
  }
  return std::nullopt;
}

bool gguf_permutes_qk(std::string_view gguf_architecture) { return gguf_architecture == "llama"; }

std::optional<std::string> hf_to_gguf_tensor_name(std::string_view hf_name) { return translate(hf_name, true); }

std::optional<std::string> gguf_to_hf_tensor_name(std::string_view gguf_name) { return translate(gguf_name, false); }

QkRole gguf_qk_role(std::string_view gguf_name) {
  if (gguf_name.substr(0, 4) != "blk.") return QkRole::kNone;
  if (ends_with(gguf_name, ".attn_q.weight") || ends_with(gguf_name, ".attn_q.bias")) return QkRole::kQuery;
  if (ends_with(gguf_name, ".attn_k.weight") || ends_with(gguf_name, ".attn_k.bias")) return QkRole::kKey;
  return QkRole::kNone;
}

void permute_qk_rows(const float* src, float* dst, int64_t rows, int64_t cols, int64_t heads, bool to_gguf) {
  const int64_t head_rows = rows / heads;
  const int64_t half = head_rows / 2;
  const size_t row_bytes = static_cast<size_t>(cols) * sizeof(float);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < half; ++i) {
      for (int64_t j = 0; j < 2; ++j) {
        const int64_t gguf_row = h * head_rows + 2 * i + j;
        const int64_t hf_row = h * head_rows + j * half + i;
        const int64_t from = to_gguf ? hf_row : gguf_row;
        const int64_t to = to_gguf ? gguf_row : hf_row;
        std::memcpy(dst + to * cols, src + from * cols, row_bytes);
      }
    }
  }
}

}  // namespace tgi::formats
