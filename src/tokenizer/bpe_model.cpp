#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include <fmt/format.h>

#include "tokenizer/byte_level_alphabet.h"
#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

void MergeTable::build(const std::vector<std::pair<uint64_t, std::pair<uint32_t, uint32_t>>>& entries) {
  size_t cap = 16;
  while (cap < entries.size() * 2) cap <<= 1;
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  count_ = 0;
  for (const auto& [key, value] : entries) {
    for (size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == kEmpty) {
        s.key = key;
        s.value = value;
        ++count_;
        break;
      }
      if (s.key == key) {  // a repeated merge keeps its last rank, as a Rust HashMap collect does
        s.value = value;
        break;
      }
    }
  }
}

namespace {
std::atomic<uint64_t> next_instance_id{1};
}  // namespace

Result<std::unique_ptr<BpeModel>> BpeModel::create(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                                                   BpeOptions options) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->vocab_ = std::move(vocab);
  m->options_ = std::move(options);
  m->instance_id_ = next_instance_id.fetch_add(1);
  const size_t prefix_len = m->options_.continuing_subword_prefix ? m->options_.continuing_subword_prefix->size() : 0;
  std::vector<std::pair<uint64_t, std::pair<uint32_t, uint32_t>>> entries;
  entries.reserve(merges.size());
  std::string merged;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto a_id = m->vocab_.find(a);
    if (!a_id) return Error::make(ErrorKind::kInvalidArgument, "BPE merge {} uses token {:?} not in the vocab", rank, a);
    const auto b_id = m->vocab_.find(b);
    if (!b_id) return Error::make(ErrorKind::kInvalidArgument, "BPE merge {} uses token {:?} not in the vocab", rank, b);
    if (b.size() < prefix_len)
      return Error::make(ErrorKind::kInvalidArgument, "BPE merge {}: {:?} is shorter than the subword prefix", rank, b);
    merged.assign(a);
    merged.append(b, prefix_len, std::string::npos);
    const auto new_id = m->vocab_.find(merged);
    if (!new_id)
      return Error::make(ErrorKind::kInvalidArgument, "BPE merge {} makes {:?}, which is not in the vocab", rank, merged);
    entries.push_back({(uint64_t{static_cast<uint32_t>(*a_id)} << 32) | static_cast<uint32_t>(*b_id),
                       {static_cast<uint32_t>(rank), static_cast<uint32_t>(*new_id)}});
  }
  m->merges_.build(entries);
  m->plan_metaspace_chunking();
  if (m->options_.unk_token) m->unk_id_ = m->vocab_.find(*m->options_.unk_token);
  m->all_byte_level_present_ = true;
  for (int b = 0; b < 256; ++b) {
    const auto id = m->vocab_.find(fmt::format("<0x{:02X}>", b));
    m->byte_ids_[b] = id ? *id : -1;
    const auto level = m->vocab_.find(byte_level::utf8_for_byte(static_cast<uint8_t>(b)));
    m->byte_level_ids_[b] = level ? *level : -1;
    if (!level) m->all_byte_level_present_ = false;
    if (b < 128) {
      const auto one = m->vocab_.find(std::string(1, static_cast<char>(b)));
      m->ascii_ids_[b] = one ? *one : -1;
    }
  }
  return m;
}

namespace {

// Per-thread cache of merged words; entries are keyed by model instance (and path) so several
// tokenizers can share a thread without seeing each other's words.
struct WordCache {
  static constexpr size_t kCapacity = 20000;
  static constexpr size_t kMaxWordBytes = 256;
  std::unordered_map<std::string, std::vector<BpeModel::Piece>, StringHash, std::equal_to<>> words;
};

WordCache& cache_for(uint64_t key) {
  thread_local std::unordered_map<uint64_t, WordCache> caches;
  return caches[key];
}

}  // namespace

std::optional<int32_t> BpeModel::find_char(std::string_view ch) const {
  if (ch.size() == 1 && static_cast<unsigned char>(ch[0]) < 0x80) {
    const int32_t id = ascii_ids_[static_cast<unsigned char>(ch[0])];
    if (id >= 0) return id;
    return std::nullopt;
  }
  return vocab_.find(ch);
}

Result<void> BpeModel::split_into_symbols(std::string_view w, std::vector<Symbol>& symbols) const {
  thread_local std::string scratch;
  symbols.clear();
  bool unk_pending = false;  // an unknown piece (unk_id_, unk_len) not pushed yet
  uint32_t unk_len = 0;
  auto push = [&](uint32_t id, uint32_t len) {
    const auto n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, len, n - 1, n + 1});
  };
  const bool has_prefix = options_.continuing_subword_prefix && !options_.continuing_subword_prefix->empty();
  const bool has_suffix = options_.end_of_word_suffix && !options_.end_of_word_suffix->empty();
  for (size_t i = 0; i < w.size();) {
    const size_t n = utf8::char_len(static_cast<unsigned char>(w[i]));
    const size_t end = std::min(w.size(), i + n);
    std::string_view s = w.substr(i, end - i);
    const bool decorated = (has_prefix && i > 0) || (has_suffix && end == w.size());
    if (decorated) {
      scratch.clear();
      if (has_prefix && i > 0) scratch += *options_.continuing_subword_prefix;
      scratch += s;
      if (has_suffix && end == w.size()) scratch += *options_.end_of_word_suffix;
      s = scratch;
    }
    const auto byte_len = static_cast<uint32_t>(end - i);
    i = end;
    if (const auto id = decorated ? vocab_.find(s) : find_char(s)) {
      if (unk_pending) {
        push(static_cast<uint32_t>(*unk_id_), unk_len);
        unk_pending = false;
      }
      push(static_cast<uint32_t>(*id), byte_len);
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (unsigned char b : s) all = all && byte_ids_[b] >= 0;
      if (all) {
        // tokenizers pushes the byte tokens without flushing a pending unknown first.
        for (unsigned char b : s) push(static_cast<uint32_t>(byte_ids_[b]), 1);
        continue;
      }
    }
    if (options_.unk_token) {
      if (!unk_id_)
        return Error::make(ErrorKind::kInvalidArgument, "unk_token {:?} is not in the vocab", *options_.unk_token);
      if (unk_pending && options_.fuse_unk) {
        unk_len += byte_len;
      } else {
        if (unk_pending) push(static_cast<uint32_t>(*unk_id_), unk_len);
        unk_pending = true;
        unk_len = byte_len;
      }
    }
  }
  if (unk_pending) push(static_cast<uint32_t>(*unk_id_), unk_len);
  if (!symbols.empty()) symbols.back().next = -1;
  return {};
}

// Repeatedly merges the pair with the lowest rank (leftmost first). Queue entries are
// (rank << 32 | position); an entry is stale when the pair now at its position has another rank
// (a pair's rank identifies its merge, so equal rank means the very same pair).
void BpeModel::apply_merges(std::vector<Symbol>& symbols) const {
  if (symbols.size() < 2 || merges_.size() == 0) return;
  thread_local std::vector<uint64_t> heap;
  heap.clear();
  const auto greater = std::greater<uint64_t>();
  for (size_t p = 0; p + 1 < symbols.size(); ++p) {
    if (const auto* m = merges_.find(symbols[p].id, symbols[p + 1].id)) heap.push_back((uint64_t{m->first} << 32) | p);
  }
  std::make_heap(heap.begin(), heap.end(), greater);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), greater);
    const uint64_t top = heap.back();
    heap.pop_back();
    const auto rank = static_cast<uint32_t>(top >> 32);
    const auto pos = static_cast<uint32_t>(top);
    Symbol& left = symbols[pos];
    if (left.len == 0 || left.next < 0) continue;
    const auto next_pos = static_cast<size_t>(left.next);
    const Symbol right = symbols[next_pos];
    const auto* m = merges_.find(left.id, right.id);
    if (!m || m->first != rank) continue;
    left.id = m->second;
    left.len += right.len;
    left.next = right.next;
    symbols[next_pos].len = 0;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = static_cast<int32_t>(pos);
    if (left.prev >= 0) {
      if (const auto* pm = merges_.find(symbols[static_cast<size_t>(left.prev)].id, left.id)) {
        heap.push_back((uint64_t{pm->first} << 32) | static_cast<uint32_t>(left.prev));
        std::push_heap(heap.begin(), heap.end(), greater);
      }
    }
    if (left.next >= 0) {
      if (const auto* nm = merges_.find(left.id, symbols[static_cast<size_t>(left.next)].id)) {
        heap.push_back((uint64_t{nm->first} << 32) | pos);
        std::push_heap(heap.begin(), heap.end(), greater);
      }
    }
  }
}

Result<void> BpeModel::merge_word(std::string_view w, std::vector<Piece>& pieces) const {
  thread_local std::vector<Symbol> symbols;
  TGI_TRY(split_into_symbols(w, symbols));
  apply_merges(symbols);
  pieces.clear();
  for (const Symbol& s : symbols)
    if (s.len != 0) pieces.push_back({s.id, s.len});
  return {};
}

Result<bool> BpeModel::tokenize_raw_bytes(std::string_view raw, std::vector<Piece>& pieces) const {
  pieces.clear();
  if (raw.empty()) return true;
  if (!all_byte_level_present_ || (options_.continuing_subword_prefix && !options_.continuing_subword_prefix->empty()) ||
      (options_.end_of_word_suffix && !options_.end_of_word_suffix->empty()))
    return false;
  if (options_.ignore_merges) {
    thread_local std::string mapped;
    mapped.clear();
    for (unsigned char b : raw) mapped += byte_level::utf8_for_byte(b);
    if (const auto id = vocab_.find(mapped)) {
      pieces.push_back({static_cast<uint32_t>(*id), static_cast<uint32_t>(raw.size())});
      return true;
    }
  }
  WordCache& cache = cache_for(instance_id_ * 2 + 1);
  if (auto it = cache.words.find(raw); it != cache.words.end()) {
    pieces = it->second;
    return true;
  }
  thread_local std::vector<Symbol> symbols;
  symbols.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    const auto n = static_cast<int32_t>(i);
    symbols.push_back({static_cast<uint32_t>(byte_level_ids_[static_cast<unsigned char>(raw[i])]), 1, n - 1, n + 1});
  }
  symbols.back().next = -1;
  apply_merges(symbols);
  for (const Symbol& s : symbols)
    if (s.len != 0) pieces.push_back({s.id, s.len});
  if (raw.size() < WordCache::kMaxWordBytes && cache.words.size() < WordCache::kCapacity)
    cache.words.emplace(std::string(raw), pieces);
  return true;
}

namespace {
constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581
constexpr size_t kChunkingMinBytes = 64;
}  // namespace

void BpeModel::plan_metaspace_chunking() {
  if (!vocab_.find(kMetaspace) || options_.ignore_merges) return;
  bool too_many = false;
  vocab_.for_each([&](const std::string& token, int32_t) {
    for (size_t pos = token.find(kMetaspace, 1); pos != std::string::npos; pos = token.find(kMetaspace, pos + 1)) {
      if (pos >= 3 && token.compare(pos - 3, 3, kMetaspace) == 0) continue;
      if (crossing_tokens_.size() >= 64) too_many = true;
      else crossing_tokens_.emplace_back(token, pos);
    }
  });
  chunk_at_metaspace_ = !too_many;
  if (too_many) crossing_tokens_.clear();
}

bool BpeModel::is_chunk_boundary(std::string_view word, size_t pos) const {
  if (pos < 3 || word.compare(pos - 3, 3, kMetaspace) == 0) return false;
  for (const auto& [token, inner] : crossing_tokens_) {
    if (inner <= pos && word.size() - (pos - inner) >= token.size() && word.compare(pos - inner, token.size(), token) == 0)
      return false;
  }
  return true;
}

Result<void> BpeModel::tokenize_cached(std::string_view word, size_t base, std::vector<Token>& out) const {
  WordCache& cache = cache_for(instance_id_ * 2);
  const std::vector<Piece>* pieces = nullptr;
  thread_local std::vector<Piece> fresh;
  if (auto it = cache.words.find(word); it != cache.words.end()) {
    pieces = &it->second;
  } else {
    TGI_TRY(merge_word(word, fresh));
    if (word.size() < WordCache::kMaxWordBytes && cache.words.size() < WordCache::kCapacity) {
      pieces = &cache.words.emplace(std::string(word), fresh).first->second;
    } else {
      pieces = &fresh;
    }
  }
  size_t offset = base;
  for (const Piece& p : *pieces) {
    const std::string* value = vocab_.token(static_cast<int32_t>(p.id));
    out.push_back({static_cast<int32_t>(p.id), value ? *value : std::string(), offset, offset + p.len});
    offset += p.len;
  }
  return {};
}

Result<void> BpeModel::tokenize(std::string_view word, std::vector<Token>& out) const {
  if (word.empty()) return {};
  if (options_.ignore_merges) {
    if (const auto id = vocab_.find(word)) {
      out.push_back({*id, std::string(word), 0, word.size()});
      return {};
    }
  }
  if (!chunk_at_metaspace_ || word.size() < kChunkingMinBytes) return tokenize_cached(word, 0, out);
  size_t start = 0;
  for (size_t pos = word.find(kMetaspace, 1); pos != std::string_view::npos; pos = word.find(kMetaspace, pos + 3)) {
    if (!is_chunk_boundary(word, pos)) continue;
    TGI_TRY(tokenize_cached(word.substr(start, pos - start), start, out));
    start = pos;
  }
  return tokenize_cached(word.substr(start), start, out);
}

}  // namespace tgi::tokenizer
