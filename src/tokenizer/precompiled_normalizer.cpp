#include <nlohmann/json.hpp>

#include "tokenizer/normalizers.h"

namespace tgi::tokenizer {

Result<std::unique_ptr<Normalizer>> make_precompiled_normalizer(const nlohmann::json&) {
  return Error::make(ErrorKind::kUnsupported, "the Precompiled normalizer (SentencePiece charsmap) is not supported yet");
}

}  // namespace tgi::tokenizer
