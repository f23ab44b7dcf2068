#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer {

class TokenizerPipeline {};

Tokenizer::Tokenizer(std::unique_ptr<TokenizerPipeline> pipeline, TokenizerConfig config)
    : pipeline_(std::move(pipeline)), config_(std::move(config)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_file(const std::filesystem::path& path) {
  return Error::make(ErrorKind::kUnsupported, "tokenizer not implemented yet ({})", path.string());
}
Result<std::unique_ptr<Tokenizer>> Tokenizer::from_model_dir(const std::filesystem::path& dir) {
  return Error::make(ErrorKind::kUnsupported, "tokenizer not implemented yet ({})", dir.string());
}
Result<std::unique_ptr<Tokenizer>> Tokenizer::from_json_string(std::string_view) {
  return Error::make(ErrorKind::kUnsupported, "tokenizer not implemented yet");
}
Result<Encoding> Tokenizer::encode(std::string_view, bool) const {
  return Error::make(ErrorKind::kUnsupported, "tokenizer not implemented yet");
}
std::string Tokenizer::decode(std::span<const int32_t>, bool) const { return {}; }
std::optional<std::string> Tokenizer::id_to_token(int32_t) const { return std::nullopt; }
std::optional<int32_t> Tokenizer::token_to_id(std::string_view) const { return std::nullopt; }
int32_t Tokenizer::vocab_size() const { return 0; }
bool Tokenizer::is_special(int32_t) const { return false; }
const TokenizerConfig& Tokenizer::config() const { return config_; }

}  // namespace tgi::tokenizer
