#pragma once
// The scripted backends' tokenizer (server tests and the HTTP body fuzzer): a token per word, its
// id 100 + the word's length, with a leading id 1 when special tokens are asked for.
#include <string>

#include "server/backend.h"

namespace tgi::server::testing {

inline TokenizedText word_tokens(const std::string& text, bool add_special_tokens) {
  TokenizedText out;
  if (add_special_tokens) {
    out.ids.push_back(1);
    out.offsets.emplace_back(0, 0);
  }
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) {
      out.ids.push_back(static_cast<int32_t>(100 + (i - start)));
      out.offsets.emplace_back(start, i);
    }
  }
  return out;
}

}  // namespace tgi::server::testing
