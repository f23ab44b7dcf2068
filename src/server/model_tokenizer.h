#pragma once
// The tokenizer of what --model-id names: a model directory's tokenizer.json, or for a GGUF file
// the one its tokenizer.ggml.* metadata describes (formats::gguf_tokenizer), else the
// tokenizer.json beside the file.
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace tgi::server {

// Where the tokenizer's side files (tokenizer_config.json, chat_template.json, ...) are looked up.
std::filesystem::path tokenizer_dir_for(const std::filesystem::path& model_path);

Result<std::unique_ptr<tokenizer::Tokenizer>> load_model_tokenizer(const std::filesystem::path& model_path);

}  // namespace tgi::server
