#pragma once
// The tokenizer a GGUF file carries in its tokenizer.ggml.* metadata, rebuilt as the
// tokenizer.json (and tokenizer_config.json) Hugging Face tokenizers would use for the same
// model. The tokenizer part then loads it like any other, and needs no dependency on formats.
//
//   tokenizer.ggml.model "llama": SentencePiece BPE (tokens, scores, token types, byte-fallback
//     <0xNN> pieces) -> BPE with byte_fallback and merges derived from the scores, the way
//     transformers' SentencePiece converter derives them; "▁" normalizer and decoder as llama2.
//   tokenizer.ggml.model "gpt2": byte-level BPE (tokens, merges) with the pre-tokenizer named by
//     tokenizer.ggml.pre.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/gguf_file.h"

namespace tgi::formats {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum class GgufTokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct GgufTokenizer {
  nlohmann::json tokenizer_json;
  // The tokenizer_config.json facts: bos_token/eos_token/unk_token/pad_token (texts),
  // add_bos_token, add_eos_token and chat_template (tokenizer.chat_template) when present.
  nlohmann::json tokenizer_config;
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;
};

Result<GgufTokenizer> gguf_tokenizer(const GgufFile& file);

// The tokenizer.ggml.pre name of a byte-level tokenizer.json pre_tokenizer whose regexes are one
// of the families gguf_tokenizer() rebuilds ("llama-bpe", "qwen2", "deepseek-v3", "gpt-2");
// nullopt for any other.
std::optional<std::string> gguf_pre_tokenizer_name(const nlohmann::json& pre_tokenizer);

}  // namespace tgi::formats
