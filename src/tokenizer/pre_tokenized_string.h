#pragma once
// The input during encoding: a list of splits, each a NormalizedString that is either still to be
// tokenized or already holds its tokens (added tokens are fixed before normalization).
#include <optional>
#include <vector>

#include "tokenizer/model.h"
#include "tokenizer/normalized_string.h"

namespace tgi::tokenizer {

struct Split {
  NormalizedString normalized;
  std::optional<std::vector<Token>> tokens;
};

class PreTokenizedString {
 public:
  std::vector<Split> splits;

  // Replaces every untokenized split by the pieces `fn(NormalizedString&&)` returns; empty
  // pieces are dropped, as tokenizers does.
  template <typename Fn>
  Result<void> split(Fn&& fn) {
    std::vector<Split> next;
    next.reserve(splits.size());
    for (auto& s : splits) {
      if (s.tokens) {
        next.push_back(std::move(s));
        continue;
      }
      Result<std::vector<NormalizedString>> pieces = fn(std::move(s.normalized));
      if (!pieces.ok()) return pieces.error();
      for (auto& p : *pieces)
        if (!p.empty()) next.push_back(Split{std::move(p), std::nullopt});
    }
    splits = std::move(next);
    return {};
  }
};

}  // namespace tgi::tokenizer
