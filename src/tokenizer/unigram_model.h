#pragma once
// SentencePiece's Unigram model: the segmentation with the best total piece score (Viterbi),
// unknown characters fused into one unk piece, optional byte fallback.
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/byte_trie.h"
#include "tokenizer/model.h"
#include "tokenizer/vocab.h"

namespace tgi::tokenizer {

class UnigramModel final : public Model {
 public:
  UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::optional<size_t> unk_id, bool byte_fallback);
  Result<void> tokenize(std::string_view word, std::vector<Token>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  const std::string* id_to_token(int32_t id) const override;
  size_t vocab_size() const override { return pieces_.size(); }

 private:
  std::vector<std::pair<std::string, double>> pieces_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> ids_;
  PatternTrie trie_;
  std::optional<size_t> unk_id_;
  bool byte_fallback_;
  double min_score_;
};

Result<std::unique_ptr<Model>> parse_unigram_model(const nlohmann::json& j);

}  // namespace tgi::tokenizer
