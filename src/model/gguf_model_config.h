#pragma once
// A GGUF file's metadata as a ModelConfig: what formats::gguf_to_hf_config says, plus what a
// config.json cannot carry — the sliding window llama.cpp keeps under <arch>.attention.* and the
// llama3 rope frequency divisors llama.cpp keeps as the rope_freqs.weight tensor.
#include "core/error.h"
#include "formats/gguf_file.h"
#include "model/model_config.h"

namespace tgi::model {

Result<ModelConfig> gguf_model_config(const formats::GgufFile& file);

}  // namespace tgi::model
