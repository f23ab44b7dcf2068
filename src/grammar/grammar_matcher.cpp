#include "grammar/grammar_matcher.h"

#include <algorithm>

namespace tgi::grammar {
namespace {

// Sets at most this big are deduplicated by a linear scan; bigger ones get a hash index.
constexpr uint32_t kLinearScanLimit = 16;

uint64_t hash_item(uint32_t pos, uint32_t origin, uint32_t lexeme_state) {
  uint64_t h = (uint64_t{pos} << 32 | origin) * 0x9E3779B97F4A7C15ull;
  h ^= uint64_t{lexeme_state} * 0xC2B2AE3D27D4EB4Full;
  return h ^ (h >> 31);
}

}  // namespace

GrammarMatcher::GrammarMatcher(const Grammar& grammar)
    : grammar_(&grammar), flat_(grammar.flat_symbols().data()), predicted_stamp_(grammar.rule_count(), 0) {
  set_starts_.push_back(0);
  begin_set();
  for (uint32_t production : grammar.productions_of(grammar.start_rule())) {
    const uint32_t pos = grammar.production_start(production);
    add(pos, 0, initial_lexeme_state(pos));
  }
  close_set();
  set_starts_.push_back(static_cast<uint32_t>(items_.size()));
  accepting_.push_back(building_accepting_ ? 1 : 0);
}

uint32_t GrammarMatcher::initial_lexeme_state(uint32_t pos) const {
  const uint32_t sym = flat_[pos];
  if (sym == Grammar::kEndOfProduction || (sym & 1) == 0) return 0;
  return grammar_->lexeme(sym >> 1).start();
}

void GrammarMatcher::begin_set() {
  if (++stamp_ == 0) {  // wrapped: forget every old stamp
    std::fill(predicted_stamp_.begin(), predicted_stamp_.end(), 0);
    stamp_ = 1;
  }
  building_accepting_ = false;
  indexed_count_ = 0;
}

void GrammarMatcher::rebuild_index() {
  const uint32_t first = set_starts_.back();
  const auto count = static_cast<uint32_t>(items_.size() - first);
  size_t capacity = 64;
  while (capacity < size_t{count} * 4) capacity *= 2;
  index_.assign(capacity, 0);
  const size_t mask = capacity - 1;
  for (uint32_t i = first; i < items_.size(); ++i) {
    const Item& it = items_[i];
    size_t h = hash_item(it.pos, it.origin, it.lexeme_state) & mask;
    while (index_[h] != 0) h = (h + 1) & mask;
    index_[h] = i + 1;
  }
  indexed_count_ = count;
}

void GrammarMatcher::add(uint32_t pos, uint32_t origin, uint32_t lexeme_state) {
  const uint32_t first = set_starts_.back();
  const auto count = static_cast<uint32_t>(items_.size() - first);
  if (count < kLinearScanLimit) {
    for (uint32_t i = first; i < items_.size(); ++i) {
      const Item& it = items_[i];
      if (it.pos == pos && it.origin == origin && it.lexeme_state == lexeme_state) return;
    }
    items_.push_back(Item{pos, origin, lexeme_state});
    if (count + 1 == kLinearScanLimit) rebuild_index();
    return;
  }
  const size_t mask = index_.size() - 1;
  size_t h = hash_item(pos, origin, lexeme_state) & mask;
  while (index_[h] != 0) {
    const Item& it = items_[index_[h] - 1];
    if (it.pos == pos && it.origin == origin && it.lexeme_state == lexeme_state) return;
    h = (h + 1) & mask;
  }
  items_.push_back(Item{pos, origin, lexeme_state});
  index_[h] = static_cast<uint32_t>(items_.size());
  if (size_t{count + 1} * 2 > index_.size()) rebuild_index();
}

void GrammarMatcher::close_set() {
  const auto current = static_cast<uint32_t>(set_starts_.size() - 1);
  const uint32_t start_rule = grammar_->start_rule();
  for (uint32_t i = set_starts_.back(); i < items_.size(); ++i) {
    const Item x = items_[i];  // a copy: add() may reallocate
    const uint32_t sym = flat_[x.pos];
    if (sym == Grammar::kEndOfProduction) {
      const uint32_t rule = flat_[x.pos + 1];
      if (rule == start_rule && x.origin == 0) building_accepting_ = true;
      // A completion with origin == current consumed nothing: the rule is nullable, and the items
      // waiting for it were advanced when they were predicted (Aycock-Horspool).
      if (x.origin == current) continue;
      const uint32_t wanted = Symbol::rule(rule).bits();
      const uint32_t end = set_starts_[x.origin + 1];
      for (uint32_t j = set_starts_[x.origin]; j < end; ++j) {
        const Item y = items_[j];
        if (flat_[y.pos] == wanted) add(y.pos + 1, y.origin, initial_lexeme_state(y.pos + 1));
      }
    } else if ((sym & 1) == 0) {
      const uint32_t rule = sym >> 1;
      if (predicted_stamp_[rule] != stamp_) {
        predicted_stamp_[rule] = stamp_;
        for (uint32_t production : grammar_->productions_of(rule)) {
          const uint32_t pos = grammar_->production_start(production);
          add(pos, current, initial_lexeme_state(pos));
        }
      }
      if (grammar_->nullable(rule)) add(x.pos + 1, x.origin, initial_lexeme_state(x.pos + 1));
    } else {
      const LexemeDfa& dfa = grammar_->lexeme(sym >> 1);
      if (x.lexeme_state == dfa.start() && dfa.accepting(x.lexeme_state)) {
        add(x.pos + 1, x.origin, initial_lexeme_state(x.pos + 1));
      }
    }
  }
}

bool GrammarMatcher::push_byte(uint8_t byte) {
  const size_t k = position();
  const uint32_t from = set_starts_[k];
  const uint32_t to = set_starts_[k + 1];
  begin_set();
  for (uint32_t i = from; i < to; ++i) {
    const Item x = items_[i];
    const uint32_t sym = flat_[x.pos];
    if (sym == Grammar::kEndOfProduction || (sym & 1) == 0) continue;
    const LexemeDfa& dfa = grammar_->lexeme(sym >> 1);
    const uint32_t next = dfa.next(x.lexeme_state, byte);
    if (next == LexemeDfa::kDead) continue;
    if (dfa.has_exits(next)) add(x.pos, x.origin, next);
    if (dfa.accepting(next)) add(x.pos + 1, x.origin, initial_lexeme_state(x.pos + 1));
  }
  if (items_.size() == to) return false;
  close_set();
  set_starts_.push_back(static_cast<uint32_t>(items_.size()));
  accepting_.push_back(building_accepting_ ? 1 : 0);
  return true;
}

bool GrammarMatcher::push_bytes(std::string_view bytes) {
  const size_t start = position();
  for (char c : bytes) {
    if (!push_byte(static_cast<uint8_t>(c))) {
      pop_to(start);
      return false;
    }
  }
  return true;
}

void GrammarMatcher::pop_to(size_t position) {
  set_starts_.resize(position + 2);
  items_.resize(set_starts_.back());
  accepting_.resize(position + 1);
}

bool GrammarMatcher::scanning_states(std::vector<uint64_t>& out, size_t limit) const {
  out.clear();
  const size_t k = position();
  for (uint32_t i = set_starts_[k]; i < set_starts_[k + 1]; ++i) {
    const uint32_t sym = flat_[items_[i].pos];
    if (sym == Grammar::kEndOfProduction || (sym & 1) == 0) continue;
    const uint64_t key = uint64_t{sym >> 1} << 32 | items_[i].lexeme_state;
    if (std::find(out.begin(), out.end(), key) != out.end()) continue;
    if (out.size() == limit) return false;
    out.push_back(key);
  }
  return true;
}

bool GrammarMatcher::can_continue() const {
  const size_t k = position();
  for (uint32_t i = set_starts_[k]; i < set_starts_[k + 1]; ++i) {
    const uint32_t sym = flat_[items_[i].pos];
    if (sym == Grammar::kEndOfProduction || (sym & 1) == 0) continue;
    if (grammar_->lexeme(sym >> 1).has_exits(items_[i].lexeme_state)) return true;
  }
  return false;
}

}  // namespace tgi::grammar
