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
  // decode_chain without repairing invalid UTF-8: the exact bytes the tokens stand for, which a
  // grammar needs to know (a byte-level token may hold half of a character).
  virtual void decode_chain_raw(std::vector<std::string>& tokens) const { decode_chain(tokens); }
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
