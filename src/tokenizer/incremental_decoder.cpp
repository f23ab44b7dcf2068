#include "tokenizer/incremental_decoder.h"

namespace tgi::tokenizer {

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string IncrementalDecoder::push(int32_t id) {
  window_.push_back(id);
  return {};
}

std::string IncrementalDecoder::flush() { return {}; }

}  // namespace tgi::tokenizer
