#include "server/model_tokenizer.h"

#include "model/causal_lm.h"

namespace tgi::server {

std::filesystem::path tokenizer_dir_for(const std::filesystem::path& model_path) {
  if (!model::is_gguf_file(model_path)) return model_path;
  return model_path.has_parent_path() ? model_path.parent_path() : std::filesystem::path(".");
}

Result<std::unique_ptr<tokenizer::Tokenizer>> load_model_tokenizer(const std::filesystem::path& model_path) {
  if (!model::is_gguf_file(model_path)) return tokenizer::Tokenizer::from_model_dir(model_path);
  const std::filesystem::path dir = tokenizer_dir_for(model_path);
  std::error_code ec;
  if (!std::filesystem::exists(dir / "tokenizer.json", ec) && !std::filesystem::exists(dir / "tokenizer.json.gz", ec)) {
    return Error::make(ErrorKind::kUnsupported,
                       "{} carries its tokenizer in GGUF metadata, which this build does not read yet: put the "
                       "model's tokenizer.json (and tokenizer_config.json) in {}",
                       model_path.filename().string(), dir.string());
  }
  return tokenizer::Tokenizer::from_model_dir(dir);
}

}  // namespace tgi::server
