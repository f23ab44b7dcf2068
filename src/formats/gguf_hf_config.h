#pragma once
// The way back from a llama.cpp GGUF file to what the safetensors path loads: a Hugging Face
// style config.json (for model::parse_model_config) and, per tensor, its HF name and whether
// its rows must be un-permuted (llama-family q/k; see gguf_names.h).
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/gguf_file.h"

namespace tgi::formats {

// config.json equivalent of the file's general.* / <arch>.* / tokenizer.ggml.* metadata.
// llama3 rope scaling is not expressible this way: it travels as the rope_freqs.weight tensor
// (per-frequency divisors), which a loader applies as given.
Result<nlohmann::json> gguf_to_hf_config(const GgufFile& file);

struct HfTensorMapping {
  std::string hf_name;
  // > 0: the rows are in llama.cpp's interleaved rope order for this many heads; undo with
  // permute_qk_rows(..., heads, /*to_gguf=*/false) after decoding.
  int64_t unpermute_heads = 0;
};

// nullopt for tensors with no HF counterpart (rope_freqs.weight) or unknown names.
std::optional<HfTensorMapping> gguf_tensor_to_hf(const GgufFile& file, const GgufTensor& tensor);

}  // namespace tgi::formats
