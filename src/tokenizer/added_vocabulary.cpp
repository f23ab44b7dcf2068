#include "tokenizer/added_vocabulary.h"

#include <algorithm>

#include "tokenizer/unicode_props.h"
#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

Result<void> AddedVocabulary::add_tokens(const std::vector<AddedToken>& tokens, const Model& model,
                                         const Normalizer* normalizer) {
  const auto model_size = static_cast<int64_t>(model.vocab_size());
  int64_t next_id = model_size;
  if (!by_id_.empty()) {
    int32_t max_id = 0;
    for (const auto& [id, _] : by_id_) max_id = std::max(max_id, id);
    next_id = (max_id >= model_size || model_size == 0) ? int64_t{max_id} + 1 : model_size;
  }
  for (const AddedToken& token : tokens) {
    if (token.content.empty()) continue;
    if (auto it = by_content_.find(token.content); it != by_content_.end()) {
      auto same = by_id_.find(it->second);
      if (same != by_id_.end() && same->second.content == token.content && same->second.lstrip == token.lstrip &&
          same->second.rstrip == token.rstrip && same->second.single_word == token.single_word &&
          same->second.normalized == token.normalized && same->second.special == token.special)
        continue;
    }
    int64_t id;
    if (auto existing = token_to_id(token.content)) id = *existing;
    else if (auto in_model = model.token_to_id(token.content)) id = *in_model;
    else id = next_id++;
    if (id > Vocab::kMaxId) return Error::make(ErrorKind::kInvalidArgument, "added token id {} out of range", id);
    const auto id32 = static_cast<int32_t>(id);
    if (token.normalized && normalizer) {
      NormalizedString s(token.content, 0);
      TGI_TRY(normalizer->normalize(s));
      if (s.get() != token.content) normalized_content_[id32] = s.get();
    }
    by_content_[token.content] = id32;
    if (token.special) special_.insert(token.content);
    by_id_[id32] = token;
  }
  rebuild_tries();
  return {};
}

void AddedVocabulary::rebuild_tries() {
  raw_trie_ = PatternTrie();
  normalized_trie_ = PatternTrie();
  for (const auto& [id, token] : by_id_) {
    if (token.normalized) {
      auto it = normalized_content_.find(id);
      normalized_trie_.insert(it != normalized_content_.end() ? it->second : token.content, id);
    } else {
      raw_trie_.insert(token.content, id);
    }
  }
}

std::optional<int32_t> AddedVocabulary::token_to_id(std::string_view content) const {
  auto it = by_content_.find(content);
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

const std::string* AddedVocabulary::id_to_token(int32_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return nullptr;
  if (auto n = normalized_content_.find(id); n != normalized_content_.end()) return &n->second;
  return &it->second.content;
}

const AddedToken* AddedVocabulary::token(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

namespace {

char32_t last_char(std::string_view s) {
  size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return utf8::next(s, i);
}

}  // namespace

std::vector<AddedVocabulary::Match> AddedVocabulary::find_matches(std::string_view sentence,
                                                                  const PatternTrie& trie) const {
  std::vector<Match> splits;
  if (sentence.empty()) return {{-1, 0, 0}};
  if (trie.empty()) return {{-1, 0, sentence.size()}};
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < sentence.size()) {
    if (!trie.may_start(static_cast<unsigned char>(sentence[pos]))) {
      ++pos;
      continue;
    }
    const auto [len, id] = trie.longest_at(sentence, pos);
    if (len == 0) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + len;
    pos = stop;  // matches never overlap, even when this one is then skipped
    const AddedToken& token = by_id_.at(id);
    if (token.single_word) {
      const bool start_space = start == 0 || !unicode::is_word_char(last_char(sentence.substr(0, start)));
      size_t k = stop;
      const bool stop_space = stop == sentence.size() || !unicode::is_word_char(utf8::next(sentence, k));
      if (!start_space || !stop_space) continue;
    }
    if (token.lstrip) {
      size_t s = start;
      while (s > 0) {
        size_t b = s - 1;
        while (b > 0 && (static_cast<unsigned char>(sentence[b]) & 0xC0) == 0x80) --b;
        size_t k = b;
        if (!unicode::is_whitespace(utf8::next(sentence, k))) break;
        s = b;
      }
      start = std::max(s, start_offset);
    }
    if (token.rstrip) {
      size_t e = stop;
      while (e < sentence.size()) {
        size_t k = e;
        if (!unicode::is_whitespace(utf8::next(sentence, k))) break;
        e = k;
      }
      stop = e;  // the scan still resumes at the match end, as tokenizers' iterator does
    }
    if (start_offset < start) splits.push_back({-1, start_offset, start});
    splits.push_back({id, start, stop});
    start_offset = stop;
  }
  if (start_offset != sentence.size()) splits.push_back({-1, start_offset, sentence.size()});
  return splits;
}

std::vector<AddedVocabulary::Match> AddedVocabulary::find_matches_unnormalized(std::string_view text) const {
  std::vector<Match> out;
  for (const Match& first : find_matches(text, raw_trie_)) {
    if (first.begin == first.end) continue;
    if (first.id >= 0 || normalized_trie_.empty()) {
      out.push_back(first);
      continue;
    }
    for (Match m : find_matches(text.substr(first.begin, first.end - first.begin), normalized_trie_)) {
      if (m.begin == m.end) continue;
      m.begin += first.begin;
      m.end += first.begin;
      out.push_back(m);
    }
  }
  return out;
}

Result<PreTokenizedString> AddedVocabulary::extract_and_normalize(std::string_view text,
                                                                  const Normalizer* normalizer) const {
  PreTokenizedString pre;
  pre.splits.push_back(Split{NormalizedString(text, 0), std::nullopt});
  // Pass 0 matches non-normalized tokens on the raw text; pass 1 normalizes what is left and
  // matches the normalized tokens there.
  for (int pass = 0; pass < 2; ++pass) {
    const PatternTrie& trie = pass == 0 ? raw_trie_ : normalized_trie_;
    std::vector<Split> next;
    next.reserve(pre.splits.size());
    for (auto& s : pre.splits) {
      if (s.tokens) {
        next.push_back(std::move(s));
        continue;
      }
      if (pass == 1 && normalizer) TGI_TRY(normalizer->normalize(s.normalized));
      for (const Match& m : find_matches(s.normalized.get(), trie)) {
        NormalizedString piece = s.normalized.slice(m.begin, m.end);
        if (piece.empty()) continue;
        if (m.id >= 0) {
          std::vector<Token> tokens;
          tokens.push_back({m.id, piece.get(), 0, piece.get().size()});
          next.push_back(Split{std::move(piece), std::move(tokens)});
        } else {
          next.push_back(Split{std::move(piece), std::nullopt});
        }
      }
    }
    pre.splits = std::move(next);
  }
  return pre;
}

}  // namespace tgi::tokenizer
