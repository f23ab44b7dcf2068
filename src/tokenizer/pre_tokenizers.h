#pragma once
// tokenizer.json "pre_tokenizer": cuts normalized text into words for the model.
#include <memory>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"
#include "tokenizer/pre_tokenized_string.h"

namespace tgi::tokenizer {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual Result<void> pre_tokenize(PreTokenizedString& s) const = 0;
};

// null -> nullptr (no pre-tokenizer).
Result<std::unique_ptr<PreTokenizer>> parse_pre_tokenizer(const nlohmann::json& j);
Result<SplitBehavior> parse_split_behavior(const std::string& name);

}  // namespace tgi::tokenizer
