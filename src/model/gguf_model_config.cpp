#include "model/gguf_model_config.h"

#include <cmath>

#include "formats/gguf_hf_config.h"
#include "kernels/weight_view.h"

namespace tgi::model {
namespace {

// rope_freqs.weight divides each rotary frequency (llama.cpp's "freq_factors"). Per-dimension
// divisors with no length switch and no cos/sin scale is exactly longrope with equal short and
// long factors and attention_factor 1, so the rope code needs no new variant.
Result<void> apply_rope_frequency_divisors(const formats::GgufTensor& t, ModelConfig& c) {
  if (c.rope.type != RopeType::kDefault)
    return Error::make(ErrorKind::kUnsupported, "GGUF file has rope_freqs.weight and rope scaling '{}'; combining them is not supported",
                       to_string(c.rope.type));
  const int64_t expected = c.rotary_dim() / 2;
  const auto format = kernels::weight_format_for_ggml(t.type);
  if (t.dims.size() != 1 || t.dims[0] != expected || !format || kernels::is_block_format(*format))
    return Error::make(ErrorKind::kCorruptData, "rope_freqs.weight must be {} F32/F16/BF16 values (one per rotary frequency), got {} [{}]",
                       expected, formats::ggml_type_name(t.type), t.dims.empty() ? 0 : t.dims[0]);
  std::vector<float> divisors(static_cast<size_t>(expected));
  kernels::dequantize_row(kernels::WeightView{*format, 1, expected, t.data, 0}, 0, divisors.data());
  std::vector<double> factors;
  for (float d : divisors) {
    if (!std::isfinite(d) || d <= 0.0f)
      return Error::make(ErrorKind::kCorruptData, "rope_freqs.weight holds {}, not a positive divisor", d);
    factors.push_back(d);
  }
  const bool same_rope_everywhere = c.rope_sliding == c.rope;
  c.rope.type = RopeType::kLongrope;
  c.rope.short_factor = factors;
  c.rope.long_factor = std::move(factors);
  c.rope.attention_factor = 1.0;
  c.rope.original_max_position_embeddings = c.max_position_embeddings;
  if (same_rope_everywhere) c.rope_sliding = c.rope;
  return {};
}

}  // namespace

Result<ModelConfig> gguf_model_config(const formats::GgufFile& file) {
  TGI_ASSIGN_OR_RETURN(nlohmann::json json, formats::gguf_to_hf_config(file));
  TGI_ASSIGN_OR_RETURN(std::string arch, file.architecture());
  if (const formats::GgufValue* window = file.find_value(arch + ".attention.sliding_window")) {
    const auto tokens = window->as_int();
    if (!tokens || *tokens < 0)
      return Error::make(ErrorKind::kCorruptData, "{}.attention.sliding_window must be a non-negative integer", arch);
    if (*tokens > 0) {
      // Every layer slides (the only layout the key describes); qwen-style configs need saying so.
      json["sliding_window"] = *tokens;
      json["use_sliding_window"] = true;
      json["max_window_layers"] = 0;
    }
  }
  TGI_ASSIGN_OR_RETURN(ModelConfig config, parse_model_config(json));
  if (const formats::GgufTensor* freqs = file.find_tensor("rope_freqs.weight")) {
    TGI_TRY(apply_rope_frequency_divisors(*freqs, config));
  }
  return config;
}

}  // namespace tgi::model
