#pragma once
// tokenizer.json "added_tokens": strings matched in the input before the model sees it
// (leftmost-longest, honouring lstrip/rstrip/single_word; `normalized` ones are matched after
// normalization), plus the id <-> content tables and the set of special tokens.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/byte_trie.h"
#include "tokenizer/model.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenized_string.h"
#include "tokenizer/vocab.h"

namespace tgi::tokenizer {

struct AddedToken {
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

class AddedVocabulary {
 public:
  // Registers tokens the way tokenizers' add_tokens does: an id comes from the model's vocab when
  // the content is there, else the next free id.
  Result<void> add_tokens(const std::vector<AddedToken>& tokens, const Model& model, const Normalizer* normalizer);

  std::optional<int32_t> token_to_id(std::string_view content) const;
  // Content (normalized form for `normalized` tokens whose normalization differs).
  const std::string* id_to_token(int32_t id) const;
  const AddedToken* token(int32_t id) const;
  bool is_special_content(std::string_view content) const { return special_.count(std::string(content)) > 0; }
  size_t size() const { return by_content_.size(); }
  const std::unordered_map<int32_t, AddedToken>& tokens_by_id() const { return by_id_; }
  const std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>& ids_by_content() const {
    return by_content_;
  }

  // Splits `text` into pieces (added tokens found, the rest normalized), as extract_and_normalize.
  Result<PreTokenizedString> extract_and_normalize(std::string_view text, const Normalizer* normalizer) const;

  struct Match {
    int32_t id;  // -1: plain text
    size_t begin, end;
  };
  // Both extraction passes over text that normalization leaves unchanged (byte-level fast path).
  std::vector<Match> find_matches_unnormalized(std::string_view text) const;

 private:
  std::vector<Match> find_matches(std::string_view sentence, const PatternTrie& trie) const;
  void rebuild_tries();

  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> by_content_;
  std::unordered_map<int32_t, AddedToken> by_id_;
  std::unordered_map<int32_t, std::string> normalized_content_;
  std::unordered_set<std::string> special_;
  PatternTrie raw_trie_;
  PatternTrie normalized_trie_;
};

}  // namespace tgi::tokenizer
