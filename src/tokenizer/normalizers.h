#pragma once
// tokenizer.json "normalizer": edits a NormalizedString before pre-tokenization.
#include <memory>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"
#include "tokenizer/normalized_string.h"

namespace tgi::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual Result<void> normalize(NormalizedString& s) const = 0;
};

// null -> nullptr (no normalizer).
Result<std::unique_ptr<Normalizer>> parse_normalizer(const nlohmann::json& j);

// {"String": "..."} or {"Regex": "..."}, shared with Split and the Replace decoder.
Result<Pattern> parse_pattern(const nlohmann::json& j);

}  // namespace tgi::tokenizer

namespace tgi::tokenizer {
// SentencePiece's precompiled charsmap (precompiled_normalizer.cpp).
Result<std::unique_ptr<Normalizer>> make_precompiled_normalizer(const nlohmann::json& j);
}  // namespace tgi::tokenizer
