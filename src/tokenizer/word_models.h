#pragma once
// The two whole-word vocabulary models: WordLevel (word -> id or unk) and WordPiece (greedy
// longest-prefix subwords with a continuation prefix, BERT style).
#include <optional>
#include <string>

#include "tokenizer/model.h"
#include "tokenizer/vocab.h"

namespace tgi::tokenizer {

class WordLevelModel final : public Model {
 public:
  WordLevelModel(Vocab vocab, std::optional<std::string> unk_token)
      : vocab_(std::move(vocab)), unk_token_(unk_token.value_or("<unk>")) {}
  Result<void> tokenize(std::string_view word, std::vector<Token>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  Vocab vocab_;
  std::string unk_token_;
};

class WordPieceModel final : public Model {
 public:
  WordPieceModel(Vocab vocab, std::string unk_token, std::string prefix, size_t max_input_chars_per_word)
      : vocab_(std::move(vocab)), unk_token_(std::move(unk_token)), prefix_(std::move(prefix)),
        max_chars_(max_input_chars_per_word) {}
  Result<void> tokenize(std::string_view word, std::vector<Token>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  Result<void> push_unk(std::string_view word, std::vector<Token>& out) const;
  Vocab vocab_;
  std::string unk_token_;
  std::string prefix_;
  size_t max_chars_;
};

}  // namespace tgi::tokenizer
