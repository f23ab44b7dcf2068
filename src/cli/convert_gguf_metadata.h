#pragma once
// What `tgi convert --to gguf` writes besides the weights: the general.* and <arch>.* keys
// llama.cpp reads for a model, and the tokenizer.* keys built from tokenizer.json.
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/gguf_writer.h"
#include "model/model_config.h"

namespace tgi::cli {

// general.*, <arch>.* hyper-parameters and rope settings.
Result<void> add_model_metadata(formats::GgufWriter& writer, const model::ModelConfig& config,
                                const std::string& architecture, const std::string& model_name);

// tokenizer.ggml.* and tokenizer.chat_template from tokenizer.json / tokenizer_config.json /
// chat_template.jinja in `model_dir`. A directory without tokenizer.json adds nothing.
Result<void> add_tokenizer_metadata(formats::GgufWriter& writer, const std::filesystem::path& model_dir,
                                    const model::ModelConfig& config, const std::string& architecture);

// llama3-style rope scaling as llama.cpp consumes it: one divisor per rotary frequency
// (the rope_freqs.weight tensor, head_dim/2 values).
std::vector<float> llama3_rope_frequency_factors(const model::RopeParameters& rope, int64_t rotary_dim);

}  // namespace tgi::cli
