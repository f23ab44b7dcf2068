#pragma once
// The tokenizer.* keys `tgi convert --to gguf` writes, built from tokenizer.json (the model's own
// general.* / <arch>.* keys are written by model/gguf_export).
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/gguf_writer.h"
#include "model/model_config.h"

namespace tgi::cli {

// tokenizer.ggml.* and tokenizer.chat_template from tokenizer.json / tokenizer_config.json /
// chat_template.jinja in `model_dir`. A directory without tokenizer.json adds nothing.
Result<void> add_tokenizer_metadata(formats::GgufWriter& writer, const std::filesystem::path& model_dir,
                                    const model::ModelConfig& config, const std::string& architecture);

}  // namespace tgi::cli
