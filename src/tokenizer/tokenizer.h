#pragma once
// A tokenizer.json (Hugging Face `tokenizers` format) loaded into memory: encode, decode and
// vocabulary lookups that give exactly the answers the Rust library gives. All const methods are
// safe to call concurrently from several threads.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

namespace tgi::tokenizer {

struct Encoding {
  std::vector<int32_t> ids;
  std::vector<std::string> tokens;
  // Character (Unicode scalar) offsets into the input text, [begin, end), as the Python
  // `tokenizers` binding reports them; special tokens inserted by the post-processor get (0, 0).
  std::vector<std::pair<size_t, size_t>> offsets;
};

// What tokenizer_config.json adds on top of tokenizer.json (all optional there).
struct TokenizerConfig {
  std::optional<std::string> bos_token;
  std::optional<int32_t> bos_token_id;
  std::optional<std::string> eos_token;
  std::optional<int32_t> eos_token_id;
  std::optional<std::string> pad_token;
  std::optional<int32_t> pad_token_id;
  std::optional<std::string> unk_token;
  std::optional<int32_t> unk_token_id;
  std::vector<std::string> additional_special_tokens;
  bool add_bos_token = false;  // as declared (defaults: see tokenizer_config_loader.cpp)
  bool add_eos_token = false;
  // `chat_template` as a string, or the entry named "default" when it is a list.
  std::optional<std::string> chat_template;
  // Every named template when `chat_template` is a list ({"name":..., "template":...}).
  std::map<std::string, std::string> named_chat_templates;
  std::optional<uint64_t> model_max_length;  // absent when the file says "unbounded" (~1e30)
  std::string tokenizer_class;
  bool clean_up_tokenization_spaces = false;
};

class TokenizerPipeline;  // the parsed tokenizer.json (normalizer, pre-tokenizer, model, ...)

class Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> from_file(const std::filesystem::path& tokenizer_json);
  // tokenizer.json (+ .gz) and tokenizer_config.json (special tokens, add_bos/eos, chat_template)
  // from a model directory. Like TGI, a Llama tokenizer class gets its bos/eos post-processing
  // from add_bos_token/add_eos_token.
  static Result<std::unique_ptr<Tokenizer>> from_model_dir(const std::filesystem::path& dir);
  static Result<std::unique_ptr<Tokenizer>> from_json_string(std::string_view json);
  // A tokenizer.json document built in memory (e.g. from GGUF metadata) and, when it is an
  // object, the tokenizer_config.json facts that go with it.
  static Result<std::unique_ptr<Tokenizer>> from_json(const nlohmann::json& tokenizer_json,
                                                      const nlohmann::json& tokenizer_config);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Invalid UTF-8 in `text` is replaced by U+FFFD (what a Rust &str from lossy input holds);
  // offsets then refer to the repaired text.
  Result<Encoding> encode(std::string_view text, bool add_special_tokens = true) const;
  // Unknown ids are skipped, as the reference does.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;
  std::optional<std::string> id_to_token(int32_t id) const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  int32_t vocab_size() const;  // including added tokens
  bool is_special(int32_t id) const;
  const TokenizerConfig& config() const;

  const TokenizerPipeline& pipeline() const { return *pipeline_; }

 private:
  Tokenizer(std::unique_ptr<TokenizerPipeline> pipeline, TokenizerConfig config);
  std::unique_ptr<TokenizerPipeline> pipeline_;
  TokenizerConfig config_;
  int32_t vocab_size_ = 0;
};

}  // namespace tgi::tokenizer
