#pragma once
// SentencePiece's precompiled normalization map, the blob tokenizer.json stores (base64) as
// "precompiled_charsmap": a little-endian u32 byte size of a darts-clone double-array trie, the
// trie's u32 units, then a pool of NUL-terminated UTF-8 replacement strings the trie's values
// point into. Every offset is checked: a hostile blob gives an Error, never a read out of range.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace tgi::tokenizer {

class PrecompiledCharsmap {
 public:
  static Result<PrecompiledCharsmap> parse(const std::vector<uint8_t>& blob);

  // The replacement of `chunk`, taken (as the reference does) from the FIRST, i.e. shortest,
  // prefix of `chunk` the trie holds; nullopt when no prefix is in the trie.
  Result<std::optional<std::string_view>> transform(std::string_view chunk) const;

 private:
  std::vector<uint32_t> units_;
  std::string pool_;
};

}  // namespace tgi::tokenizer
