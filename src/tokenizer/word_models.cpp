#include "tokenizer/word_models.h"

#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

Result<void> WordLevelModel::tokenize(std::string_view word, std::vector<Token>& out) const {
  if (auto id = vocab_.find(word)) {
    out.push_back({*id, std::string(word), 0, word.size()});
    return {};
  }
  if (auto unk = vocab_.find(unk_token_)) {
    out.push_back({*unk, unk_token_, 0, word.size()});
    return {};
  }
  return Error::make(ErrorKind::kInvalidArgument, "WordLevel: {:?} is not in the vocab and there is no unk token", word);
}

Result<void> WordPieceModel::push_unk(std::string_view word, std::vector<Token>& out) const {
  auto unk = vocab_.find(unk_token_);
  if (!unk) return Error::make(ErrorKind::kInvalidArgument, "WordPiece: unk token {:?} is not in the vocab", unk_token_);
  out.push_back({*unk, unk_token_, 0, word.size()});
  return {};
}

Result<void> WordPieceModel::tokenize(std::string_view word, std::vector<Token>& out) const {
  if (utf8::count_chars(word) > max_chars_) return push_unk(word, out);
  std::vector<Token> pieces;
  std::string candidate;
  size_t start = 0;
  while (start < word.size()) {
    size_t end = word.size();
    bool found = false;
    while (start < end) {
      candidate.clear();
      if (start > 0) candidate = prefix_;
      candidate.append(word.substr(start, end - start));
      if (auto id = vocab_.find(candidate)) {
        pieces.push_back({*id, candidate, start, end});
        found = true;
        break;
      }
      // Drop the last character of the candidate.
      size_t last = end - 1;
      while (last > start && (static_cast<unsigned char>(word[last]) & 0xC0) == 0x80) --last;
      end = last;
    }
    if (!found) return push_unk(word, out);
    start = end;
  }
  for (auto& p : pieces) out.push_back(std::move(p));
  return {};
}

}  // namespace tgi::tokenizer
