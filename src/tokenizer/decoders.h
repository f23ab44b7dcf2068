#pragma once
// tokenizer.json "decoder": turns token strings back into text.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"

namespace tgi::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the list of token strings in place (tokenizers' decode_chain).
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
  std::string decode(std::vector<std::string> tokens) const {
    decode_chain(tokens);
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
  }
};

// null -> nullptr (tokens are then joined with spaces).
Result<std::unique_ptr<Decoder>> parse_decoder(const nlohmann::json& j);

}  // namespace tgi::tokenizer
