#pragma once
// Byte-pair encoding (tokenizers' BPE model): characters are merged pairwise, lowest merge rank
// first (leftmost on ties), with optional byte fallback (<0xNN> tokens) and unknown-token fusing.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/model.h"
#include "tokenizer/vocab.h"

namespace tgi::tokenizer {

// (left id, right id) -> (rank, merged id); open addressing, built once, read concurrently.
class MergeTable {
 public:
  void build(const std::vector<std::pair<uint64_t, std::pair<uint32_t, uint32_t>>>& entries);
  const std::pair<uint32_t, uint32_t>* find(uint32_t left, uint32_t right) const {
    if (slots_.empty()) return nullptr;
    const uint64_t key = (uint64_t{left} << 32) | right;
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }
  size_t size() const { return count_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  struct Slot {
    uint64_t key = kEmpty;
    std::pair<uint32_t, uint32_t> value;
  };
  static size_t hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

class BpeModel final : public Model {
 public:
  // `merges` are (left, right) token strings in rank order.
  static Result<std::unique_ptr<BpeModel>> create(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                                                  BpeOptions options);

  Result<void> tokenize(std::string_view word, std::vector<Token>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }

  struct Piece {
    uint32_t id;
    uint32_t len;  // bytes of the word covered
  };

  // Byte-level fast path: tokenizes `raw` as if each of its bytes had been replaced by its
  // ByteLevel character first; piece lengths count bytes of `raw`. Returns false (and does
  // nothing) when the vocab lacks a byte character and the generic path must be used.
  Result<bool> tokenize_raw_bytes(std::string_view raw, std::vector<Piece>& pieces) const;

  struct Symbol {
    uint32_t id;
    uint32_t len;
    int32_t prev;
    int32_t next;
  };

 private:
  BpeModel() = default;
  Result<void> merge_word(std::string_view word, std::vector<Piece>& pieces) const;
  // Merges `word` (through the per-thread cache) and appends its tokens, offsets shifted by base.
  Result<void> tokenize_cached(std::string_view word, size_t base, std::vector<Token>& out) const;
  void plan_metaspace_chunking();
  bool is_chunk_boundary(std::string_view word, size_t pos) const;
  Result<void> split_into_symbols(std::string_view word, std::vector<Symbol>& symbols) const;
  void apply_merges(std::vector<Symbol>& symbols) const;
  std::optional<int32_t> find_char(std::string_view ch) const;

  Vocab vocab_;
  MergeTable merges_;
  BpeOptions options_;
  std::optional<int32_t> unk_id_;
  int32_t byte_ids_[256];  // id of "<0xNN>" or -1
  int32_t byte_level_ids_[256];  // id of the ByteLevel character standing for each byte, or -1
  bool all_byte_level_present_ = false;
  int32_t ascii_ids_[128];  // id of each one-byte token, or -1 (the common initial lookup)
  uint64_t instance_id_ = 0;
  // SentencePiece-style BPE sees whole sentences as one word. When no vocab token has "▁" right
  // after another character (llama2), or only a few listed ones do (gemma3: ">▁</"), no merge
  // can cross such a point, so long words are cut there and merged piecewise (and cached):
  // the result is identical, the work is linear instead of a heap over the whole sentence.
  bool chunk_at_metaspace_ = false;
  std::vector<std::pair<std::string, size_t>> crossing_tokens_;  // (token, offset of its inner ▁)  // keys this model's entries in the per-thread word cache
};

}  // namespace tgi::tokenizer
