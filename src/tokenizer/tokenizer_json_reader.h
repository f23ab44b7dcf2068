#pragma once
// Reads tokenizer.json quickly: the model's vocab object and merges list (hundreds of thousands
// of entries; gemma3's file is 33 MB) are scanned straight into vectors, and only the small rest
// of the document goes through nlohmann's DOM.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tgi::tokenizer {

struct TokenizerJson {
  nlohmann::json document;  // everything except the parts below
  // model.vocab when it is an object {token: id}, in file order.
  std::optional<std::vector<std::pair<std::string, int64_t>>> vocab;
  // model.merges in either format, in file order.
  std::optional<std::vector<std::pair<std::string, std::string>>> merges;
};

Result<TokenizerJson> read_tokenizer_json(std::string_view text);

}  // namespace tgi::tokenizer
