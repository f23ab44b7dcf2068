#pragma once
// A direct route through the common byte-level BPE pipeline (GPT-2, Llama 3, Qwen, DeepSeek):
// [no normalizer or a Unicode form the text already has] -> Split regexes (Isolated) ->
// ByteLevel -> BPE. It works on byte ranges of the input and runs BPE on raw bytes, so no
// NormalizedString, alignment table or per-word string is built; offsets come out the same
// because ByteLevel aligns every byte to the whole character it belongs to.
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/error.h"
#include "tokenizer/pattern.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode_props.h"

namespace tgi::tokenizer {

class TokenizerPipeline;

class ByteLevelFastPath {
 public:
  // nullopt when the tokenizer.json pipeline has another shape.
  static Result<std::optional<ByteLevelFastPath>> plan(const nlohmann::json& root);

  // The encoding before post-processing, or nullopt when this input needs the general path
  // (text the normalizer would change, a vocab the fast path cannot serve).
  Result<std::optional<Encoding>> encode(std::string_view text, const TokenizerPipeline& pipeline) const;

 private:
  std::vector<Pattern> splits_;
  std::optional<unicode::NormalizationForm> form_;
};

}  // namespace tgi::tokenizer
