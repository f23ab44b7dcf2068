#pragma once
// Streaming detokenization for one sequence: text is released only once it is final (no split
// UTF-8 character, no half of a byte-fallback sequence, Metaspace leading spaces right), in the
// same chunks as the reference's DecodeStream. One instance per sequence; not thread-safe itself,
// but many instances may share one Tokenizer.
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer {

class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false);

  // Newly completed text (possibly empty) after appending `id`.
  std::string push(int32_t id);
  // Whatever is still held back at the end of the sequence (e.g. an incomplete UTF-8 tail,
  // which then decodes with U+FFFD replacement as a full decode would).
  std::string flush();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_tokens_;
  // As tokenizers' DecodeStream: `ids_` are the ids still needed for context, `prefix_` is the
  // text of ids_[0, prefix_index_) already emitted.
  std::vector<int32_t> ids_;
  std::string prefix_;
  size_t prefix_index_ = 0;
};

}  // namespace tgi::tokenizer
