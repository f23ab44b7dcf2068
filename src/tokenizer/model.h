#pragma once
// The vocabulary model of a tokenizer.json: turns one pre-tokenized word into tokens.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tgi::tokenizer {

struct Token {
  int32_t id = 0;
  std::string value;
  size_t begin = 0;  // byte offsets within the word given to tokenize()
  size_t end = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the tokens of `word` (non-empty) to `out`.
  virtual Result<void> tokenize(std::string_view word, std::vector<Token>& out) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual const std::string* id_to_token(int32_t id) const = 0;
  virtual size_t vocab_size() const = 0;  // number of entries in the model's vocab
};

}  // namespace tgi::tokenizer
