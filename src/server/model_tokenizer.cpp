#include "server/model_tokenizer.h"

#include <fmt/format.h>

#include "formats/gguf_file.h"
#include "formats/gguf_tokenizer.h"
#include "model/causal_lm.h"

namespace tgi::server {
namespace {

bool has_tokenizer_json(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir / "tokenizer.json", ec) || std::filesystem::exists(dir / "tokenizer.json.gz", ec);
}

Result<std::unique_ptr<tokenizer::Tokenizer>> from_gguf_metadata(const std::filesystem::path& gguf) {
  TGI_ASSIGN_OR_RETURN(auto file, formats::GgufFile::open(gguf));
  TGI_ASSIGN_OR_RETURN(formats::GgufTokenizer rebuilt, formats::gguf_tokenizer(*file));
  return tokenizer::Tokenizer::from_json(rebuilt.tokenizer_json, rebuilt.tokenizer_config);
}

}  // namespace

std::filesystem::path tokenizer_dir_for(const std::filesystem::path& model_path) {
  if (!model::is_gguf_file(model_path)) return model_path;
  return model_path.has_parent_path() ? model_path.parent_path() : std::filesystem::path(".");
}

Result<std::unique_ptr<tokenizer::Tokenizer>> load_model_tokenizer(const std::filesystem::path& model_path) {
  if (!model::is_gguf_file(model_path)) return tokenizer::Tokenizer::from_model_dir(model_path);
  // The file's own tokenizer.ggml.* metadata first (llama.cpp reads nothing else); a
  // tokenizer.json beside the file serves files without usable metadata.
  auto embedded = from_gguf_metadata(model_path);
  if (embedded.ok()) return embedded;
  const std::filesystem::path dir = tokenizer_dir_for(model_path);
  if (has_tokenizer_json(dir)) return tokenizer::Tokenizer::from_model_dir(dir);
  return Error{embedded.error().kind,
               fmt::format("{} (and there is no tokenizer.json beside {} to use instead)", embedded.error().message,
                           model_path.filename().string())};
}

}  // namespace tgi::server
