#include "tokenizer/bpe_model.h"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include <fmt/format.h>

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
  if (m->options_.unk_token) m->unk_id_ = m->vocab_.find(*m->options_.unk_token);
  m->all_bytes_present_ = true;
  for (int b = 0; b < 256; ++b) {
    const auto id = m->vocab_.find(fmt::format("<0x{:02X}>", b));
    m->byte_ids_[b] = id ? *id : -1;
    if (!id) m->all_bytes_present_ = false;
  }
  return m;
}

namespace {

struct Symbol {
  uint32_t id;
  uint32_t len;
  int32_t prev;
  int32_t next;
};

struct QueuedMerge {
  uint32_t rank;
  uint32_t pos;
  uint32_t new_id;
  // Lowest rank first, then leftmost.
  bool operator<(const QueuedMerge& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

// Per-thread cache of merged words; entries are keyed by model instance so several tokenizers
// can share a thread without seeing each other's words.
struct WordCache {
  static constexpr size_t kCapacity = 20000;
  static constexpr size_t kMaxWordBytes = 256;
  std::unordered_map<std::string, std::vector<BpeModel::Piece>, StringHash, std::equal_to<>> words;
};

WordCache& cache_for(uint64_t instance) {
  thread_local std::unordered_map<uint64_t, WordCache> caches;
  return caches[instance];
}

}  // namespace

Result<void> BpeModel::merge_word(std::string_view w, std::vector<Piece>& pieces) const {
  thread_local std::vector<Symbol> symbols;
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
    if ((has_prefix && i > 0) || (has_suffix && end == w.size())) {
      scratch.clear();
      if (has_prefix && i > 0) scratch += *options_.continuing_subword_prefix;
      scratch += s;
      if (has_suffix && end == w.size()) scratch += *options_.end_of_word_suffix;
      s = scratch;
    }
    const auto byte_len = static_cast<uint32_t>(end - i);
    i = end;
    if (const auto id = vocab_.find(s)) {
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

  if (symbols.size() > 1 && merges_.size() > 0) {
    thread_local std::vector<QueuedMerge> heap;
    heap.clear();
    for (size_t p = 0; p + 1 < symbols.size(); ++p) {
      if (const auto* m = merges_.find(symbols[p].id, symbols[p + 1].id))
        heap.push_back({m->first, static_cast<uint32_t>(p), m->second});
    }
    std::make_heap(heap.begin(), heap.end());
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end());
      const QueuedMerge top = heap.back();
      heap.pop_back();
      Symbol& left = symbols[top.pos];
      if (left.len == 0 || left.next < 0) continue;
      const auto next_pos = static_cast<size_t>(left.next);
      const Symbol right = symbols[next_pos];
      const auto* m = merges_.find(left.id, right.id);
      if (!m || m->second != top.new_id) continue;
      left.id = top.new_id;
      left.len += right.len;
      left.next = right.next;
      symbols[next_pos].len = 0;
      if (right.next >= 0 && static_cast<size_t>(right.next) < symbols.size())
        symbols[static_cast<size_t>(right.next)].prev = static_cast<int32_t>(top.pos);
      if (left.prev >= 0) {
        const Symbol& prev = symbols[static_cast<size_t>(left.prev)];
        if (const auto* pm = merges_.find(prev.id, left.id)) {
          heap.push_back({pm->first, static_cast<uint32_t>(left.prev), pm->second});
          std::push_heap(heap.begin(), heap.end());
        }
      }
      if (left.next >= 0 && static_cast<size_t>(left.next) < symbols.size()) {
        const Symbol& nx = symbols[static_cast<size_t>(left.next)];
        if (const auto* nm = merges_.find(left.id, nx.id)) {
          heap.push_back({nm->first, top.pos, nm->second});
          std::push_heap(heap.begin(), heap.end());
        }
      }
    }
  }
  pieces.clear();
  for (const Symbol& s : symbols)
    if (s.len != 0) pieces.push_back({s.id, s.len});
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
  WordCache& cache = cache_for(instance_id_);
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
  size_t offset = 0;
  for (const Piece& p : *pieces) {
    const std::string* value = vocab_.token(static_cast<int32_t>(p.id));
    out.push_back({static_cast<int32_t>(p.id), value ? *value : std::string(), offset, offset + p.len});
    offset += p.len;
  }
  return {};
}

}  // namespace tgi::tokenizer
