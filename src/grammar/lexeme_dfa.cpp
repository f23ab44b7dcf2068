// Regex -> byte DFA in four steps: a Thompson NFA over UTF-8 bytes (codepoint ranges split into
// byte-sequence ranges), subset construction over byte intervals, pruning of states that cannot
// reach acceptance, and Hopcroft minimization with byte columns merged into equivalence classes.
// Intersection and difference compile their operands to DFAs first, take the product, and embed
// the result back into the NFA, so they may sit anywhere in a tree.
#include "grammar/lexeme_dfa.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/utf8.h"

namespace tgi::grammar {

namespace {

constexpr uint32_t kNoState = UINT32_MAX;
// Bounds on intermediate work, independent of the caller's state limit, so no input can make the
// builder allocate or loop without bound.
constexpr size_t kMaxNfaStates = size_t{1} << 21;
constexpr uint64_t kMaxSubsetElements = uint64_t{1} << 24;
constexpr uint64_t kMaxClosureSteps = uint64_t{1} << 28;
constexpr uint64_t kClosureStepsPerState = 512;
constexpr uint64_t kMaxTransitionCells = uint64_t{1} << 25;

// Either consumes one byte in [lo, hi] and moves to out1, or moves to out1 and out2 on no input.
struct NfaState {
  uint32_t out1 = kNoState;
  uint32_t out2 = kNoState;
  uint8_t lo = 0;
  uint8_t hi = 0;
  bool consumes = false;
};

// A piece of NFA: entered at `entry`, left from `exit`, an epsilon state whose outs are still free.
struct Fragment {
  uint32_t entry;
  uint32_t exit;
};

// One UTF-8 byte-sequence shape: `length` bytes, byte i in [lo[i], hi[i]].
struct Utf8Sequence {
  uint8_t length = 0;
  std::array<uint8_t, 4> lo{};
  std::array<uint8_t, 4> hi{};
};

size_t utf8_encode(char32_t c, std::array<uint8_t, 4>& out) {
  if (c < 0x80) {
    out[0] = static_cast<uint8_t>(c);
    return 1;
  }
  if (c < 0x800) {
    out[0] = static_cast<uint8_t>(0xC0 | (c >> 6));
    out[1] = static_cast<uint8_t>(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = static_cast<uint8_t>(0xE0 | (c >> 12));
    out[1] = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3F));
    out[2] = static_cast<uint8_t>(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = static_cast<uint8_t>(0xF0 | (c >> 18));
  out[1] = static_cast<uint8_t>(0x80 | ((c >> 12) & 0x3F));
  out[2] = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3F));
  out[3] = static_cast<uint8_t>(0x80 | (c & 0x3F));
  return 4;
}

// [first, last] share an encoded length. Splits it until every piece's encodings form a product
// of byte ranges: the low 6k bits must run over their full span wherever the higher bits differ.
void split_same_length(char32_t first, char32_t last, size_t length, std::vector<Utf8Sequence>& out) {
  for (size_t k = 1; k < length; ++k) {
    char32_t low_mask = (char32_t{1} << (6 * k)) - 1;
    if ((first & ~low_mask) == (last & ~low_mask)) continue;
    if ((first & low_mask) != 0) {
      split_same_length(first, first | low_mask, length, out);
      split_same_length((first | low_mask) + 1, last, length, out);
      return;
    }
    if ((last & low_mask) != low_mask) {
      split_same_length(first, (last & ~low_mask) - 1, length, out);
      split_same_length(last & ~low_mask, last, length, out);
      return;
    }
  }
  Utf8Sequence sequence;
  sequence.length = static_cast<uint8_t>(length);
  utf8_encode(first, sequence.lo);
  utf8_encode(last, sequence.hi);
  out.push_back(sequence);
}

// The byte sequences of a set of scalar values; surrogates are never in a CodepointSet and the
// split by encoded length rules out overlong forms.
std::vector<Utf8Sequence> utf8_sequences(const CodepointSet& set) {
  static constexpr char32_t kLengthEnds[] = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
  std::vector<Utf8Sequence> out;
  for (const CodepointRange& range : set.ranges()) {
    char32_t length_start = 0;
    for (size_t i = 0; i < 4; ++i) {
      char32_t first = std::max(range.first, length_start);
      char32_t last = std::min(range.last, kLengthEnds[i]);
      if (first <= last) split_same_length(first, last, i + 1, out);
      length_start = kLengthEnds[i] + 1;
    }
  }
  return out;
}

Error too_many_states(uint32_t max_states) {
  return Error::make(ErrorKind::kValidation, "regex too complex: more than {} DFA states", max_states);
}

// Classes grouped by equal columns: group_of[class], and the first class of each group.
struct ClassMerge {
  std::vector<uint32_t> group_of;
  std::vector<uint32_t> representatives;
};

// `table` is row-major, `rows` x `classes`.
ClassMerge merge_equal_columns(const std::vector<uint32_t>& table, uint32_t rows, uint32_t classes) {
  ClassMerge merge;
  merge.group_of.resize(classes);
  std::unordered_map<std::string, uint32_t> groups;
  std::string column(sizeof(uint32_t) * rows, '\0');
  for (uint32_t c = 0; c < classes; ++c) {
    for (uint32_t r = 0; r < rows; ++r) {
      std::memcpy(column.data() + sizeof(uint32_t) * r, &table[size_t{r} * classes + c], sizeof(uint32_t));
    }
    auto [it, inserted] = groups.emplace(column, static_cast<uint32_t>(merge.representatives.size()));
    if (inserted) merge.representatives.push_back(c);
    merge.group_of[c] = it->second;
  }
  return merge;
}

struct VectorHash {
  size_t operator()(const std::vector<uint32_t>& v) const {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ v.size();
    for (uint32_t x : v) h = (h ^ x) * 0x100000001B3ULL + (h >> 29);
    return static_cast<size_t>(h);
  }
};

}  // namespace

class LexemeDfaBuilder {
 public:
  explicit LexemeDfaBuilder(const LexemeDfaLimits& limits) : limits_(limits) {
    uint64_t intermediate = uint64_t{limits.max_states} * 4 + 64;
    intermediate_limit_ = static_cast<uint32_t>(std::min<uint64_t>(intermediate, uint64_t{1} << 22));
    // Work in proportion to the states allowed: a small limit must also bound the time spent
    // finding out that a regex needs more (the GBNF lowering tries many small builds).
    closure_limit_ =
        std::min<uint64_t>(kMaxClosureSteps, uint64_t{limits.max_states} * kClosureStepsPerState);
  }

  Result<LexemeDfa> compile(const Regex& regex) {
    // A product at the top is already a finished automaton.
    if (regex.kind() == Regex::Kind::kIntersect || regex.kind() == Regex::Kind::kDifference) {
      return build_product(regex);
    }
    if (worth_composing(regex)) {
      auto composed = compose(regex);
      if (!composed.ok()) return composed.error();
      if (composed->has_value()) return finalize(**composed);
    }
    nfa_.clear();
    TGI_ASSIGN_OR_RETURN(Fragment whole, emit(regex));
    accept_ = whole.exit;
    TGI_ASSIGN_OR_RETURN(LexemeDfa raw, determinize(whole.entry));
    return finalize(raw);
  }

  // --- Direct construction of long bounded repeats -------------------------------------------
  // A string with maxLength N is N copies of "one JSON character" in a row: through the NFA that
  // is thousands of states for the subset construction to rediscover. When the pieces are
  // deterministic enough to chain (see concat_raw, repeat_raw), the automaton is assembled
  // directly from the pieces' DFAs instead, over an identity byte alphabet, and finalize()
  // prunes, minimizes and compresses it as usual. Anything else takes the general path.

  static constexpr uint32_t kComposeMinRepeat = 16;

  static bool worth_composing(const Regex& regex) {
    auto long_repeat = [](const Regex& r) {
      return r.kind() == Regex::Kind::kRepeat && r.max() && *r.max() >= kComposeMinRepeat;
    };
    if (long_repeat(regex)) return true;
    if (regex.kind() != Regex::Kind::kConcat) return false;
    return std::any_of(regex.children().begin(), regex.children().end(), long_repeat);
  }

  // An automaton over the byte classes all pieces share (the common refinement of their classes).
  struct RawDfa {
    uint32_t cols = 0;
    uint32_t start = LexemeDfa::kDead;
    std::vector<uint32_t> next;  // state * cols + class
    std::vector<uint8_t> accepting;
    uint32_t size() const { return static_cast<uint32_t>(accepting.size()); }
    uint32_t add() {
      next.resize(next.size() + cols, LexemeDfa::kDead);
      accepting.push_back(0);
      return size() - 1;
    }
    uint32_t at(uint32_t q, uint32_t c) const { return next[size_t{q} * cols + c]; }
  };

  struct SharedClasses {
    uint32_t count = 0;
    uint8_t of_byte[256] = {};
    std::vector<uint8_t> representative;  // a byte of each class
  };

  static SharedClasses refine(const std::vector<const LexemeDfa*>& dfas) {
    SharedClasses out;
    std::unordered_map<std::string, uint8_t> ids;
    std::string key(dfas.size(), '\0');
    for (int b = 0; b < 256; ++b) {
      for (size_t i = 0; i < dfas.size(); ++i) key[i] = static_cast<char>(dfas[i]->byte_class_[b]);
      auto [it, fresh] = ids.try_emplace(key, static_cast<uint8_t>(out.count));
      if (fresh) {
        ++out.count;
        out.representative.push_back(static_cast<uint8_t>(b));
      }
      out.of_byte[b] = it->second;
    }
    return out;
  }

  static RawDfa to_raw(const LexemeDfa& dfa, const SharedClasses& classes) {
    RawDfa raw;
    raw.cols = classes.count;
    raw.start = dfa.start_;
    raw.accepting.assign(dfa.accepting_.begin(), dfa.accepting_.end());
    raw.next.resize(size_t{dfa.state_count()} * raw.cols);
    for (uint32_t q = 0; q < dfa.state_count(); ++q)
      for (uint32_t c = 0; c < raw.cols; ++c)
        raw.next[size_t{q} * raw.cols + c] = dfa.next(q, classes.representative[c]);
    return raw;
  }

  static LexemeDfa from_raw(const RawDfa& raw, const SharedClasses& classes) {
    LexemeDfa out;
    out.start_ = raw.start;
    out.class_count_ = raw.cols;
    for (int b = 0; b < 256; ++b) out.byte_class_[b] = classes.of_byte[b];
    out.transitions_ = raw.next;
    out.accepting_ = raw.accepting;
    out.has_exits_.assign(raw.size(), 0);
    return out;
  }

  static bool has_incoming(const RawDfa& dfa, uint32_t state) {
    return std::find(dfa.next.begin(), dfa.next.end(), state) != dfa.next.end();
  }

  // A followed by B, when at every accepting state of A the bytes that continue A and the bytes
  // that start B are disjoint (so the next byte alone says which happens). Nullopt otherwise.
  static std::optional<RawDfa> concat_raw(const RawDfa& a, const RawDfa& b) {
    if (a.start == LexemeDfa::kDead || b.start == LexemeDfa::kDead) return std::nullopt;
    const uint32_t cols = a.cols;
    RawDfa out = a;
    const uint32_t offset = a.size();
    for (uint32_t q = 0; q < b.size(); ++q) {
      out.add();
      out.accepting[offset + q] = b.accepting[q];
      for (uint32_t c = 0; c < cols; ++c) {
        const uint32_t t = b.at(q, c);
        out.next[size_t{offset + q} * cols + c] = t == LexemeDfa::kDead ? t : t + offset;
      }
    }
    for (uint32_t q = 0; q < a.size(); ++q) {
      if (!a.accepting[q]) continue;
      for (uint32_t c = 0; c < cols; ++c) {
        const uint32_t from_b = b.at(b.start, c);
        if (from_b == LexemeDfa::kDead) continue;
        if (a.at(q, c) != LexemeDfa::kDead) return std::nullopt;
        out.next[size_t{q} * cols + c] = from_b + offset;
      }
      out.accepting[q] = b.accepting[b.start];
    }
    return out;
  }

  // body{min,max} when the body is one token-like piece: a single accepting state f without
  // exits, and a start state that nothing leads back to. Copy k of the body runs until f, which
  // becomes the start of copy k + 1.
  Result<std::optional<RawDfa>> repeat_raw(const RawDfa& body, uint32_t min, uint32_t max) {
    const uint32_t cols = body.cols;
    if (body.start == LexemeDfa::kDead || body.accepting[body.start] || has_incoming(body, body.start)) {
      return std::optional<RawDfa>();
    }
    uint32_t final_state = LexemeDfa::kDead;
    for (uint32_t q = 0; q < body.size(); ++q) {
      if (!body.accepting[q]) continue;
      if (final_state != LexemeDfa::kDead) return std::optional<RawDfa>();
      for (uint32_t c = 0; c < cols; ++c)
        if (body.at(q, c) != LexemeDfa::kDead) return std::optional<RawDfa>();
      final_state = q;
    }
    if (final_state == LexemeDfa::kDead) return std::optional<RawDfa>();
    const uint64_t per_copy = body.size() - 1;
    if (per_copy * max + 1 > intermediate_limit_) return too_many_states(limits_.max_states);
    // Copy k, body state q (q != f) -> k * per_copy + index(q), the body's start first; the end
    // (max copies done) is the last state.
    std::vector<uint32_t> index(body.size(), LexemeDfa::kDead);
    uint32_t n = 0;
    index[body.start] = n++;
    for (uint32_t q = 0; q < body.size(); ++q)
      if (q != final_state && q != body.start) index[q] = n++;
    RawDfa out;
    out.cols = cols;
    out.next.assign((per_copy * max + 1) * cols, LexemeDfa::kDead);
    out.accepting.assign(per_copy * max + 1, 0);
    const uint32_t end = static_cast<uint32_t>(per_copy * max);
    out.start = 0;
    for (uint32_t k = 0; k < max; ++k) {
      const uint32_t base = static_cast<uint32_t>(k * per_copy);
      out.accepting[base] = k >= min;
      for (uint32_t q = 0; q < body.size(); ++q) {
        if (q == final_state) continue;
        for (uint32_t c = 0; c < cols; ++c) {
          const uint32_t t = body.at(q, c);
          if (t == LexemeDfa::kDead) continue;
          const uint32_t target = t == final_state
                                      ? (k + 1 == max ? end : base + static_cast<uint32_t>(per_copy))
                                      : base + index[t];
          out.next[size_t{base + index[q]} * cols + c] = target;
        }
      }
    }
    out.accepting[end] = max >= min;
    return std::optional<RawDfa>(std::move(out));
  }

  // The whole regex assembled from its pieces, or nullopt when a piece does not chain.
  Result<std::optional<LexemeDfa>> compose(const Regex& regex) {
    std::vector<Regex> pieces;
    if (regex.kind() == Regex::Kind::kConcat) {
      pieces = regex.children();
    } else {
      pieces.push_back(regex);
    }
    auto is_long_repeat = [](const Regex& r) {
      return r.kind() == Regex::Kind::kRepeat && r.max() && *r.max() >= kComposeMinRepeat;
    };
    // Each piece's automaton (a long repeat's body), then one byte alphabet for all of them.
    std::vector<LexemeDfa> dfas;
    for (const Regex& piece : pieces) {
      TGI_ASSIGN_OR_RETURN(LexemeDfa dfa,
                           LexemeDfa::build(is_long_repeat(piece) ? piece.children()[0] : piece, limits_));
      if (dfa.start_ == LexemeDfa::kDead) return std::optional<LexemeDfa>();
      dfas.push_back(std::move(dfa));
    }
    std::vector<const LexemeDfa*> all;
    for (const LexemeDfa& d : dfas) all.push_back(&d);
    const SharedClasses classes = refine(all);
    std::optional<RawDfa> whole;
    for (size_t i = 0; i < pieces.size(); ++i) {
      std::optional<RawDfa> part = to_raw(dfas[i], classes);
      if (is_long_repeat(pieces[i])) {
        TGI_ASSIGN_OR_RETURN(part, repeat_raw(*part, pieces[i].min(), *pieces[i].max()));
        if (!part) return std::optional<LexemeDfa>();
      }
      if (!whole) {
        whole = std::move(part);
      } else {
        whole = concat_raw(*whole, *part);
        if (!whole) return std::optional<LexemeDfa>();
      }
      if (whole->size() > intermediate_limit_) return too_many_states(limits_.max_states);
    }
    return std::optional<LexemeDfa>(from_raw(*whole, classes));
  }

 private:
  uint32_t new_state() {
    nfa_.emplace_back();
    return static_cast<uint32_t>(nfa_.size() - 1);
  }
  uint32_t new_byte_state(uint8_t lo, uint8_t hi) {
    uint32_t s = new_state();
    nfa_[s].consumes = true;
    nfa_[s].lo = lo;
    nfa_[s].hi = hi;
    return s;
  }
  // Makes epsilon state `from` lead to every target, through a chain of epsilon states.
  void fan_out(uint32_t from, const std::vector<uint32_t>& targets) {
    uint32_t at = from;
    for (size_t i = 0; i < targets.size(); ++i) {
      if (i + 2 < targets.size()) {
        nfa_[at].out1 = targets[i];
        uint32_t next = new_state();
        nfa_[at].out2 = next;
        at = next;
      } else if (i + 2 == targets.size()) {
        nfa_[at].out1 = targets[i];
        nfa_[at].out2 = targets[i + 1];
        break;
      } else {
        nfa_[at].out1 = targets[i];
      }
    }
  }
  Fragment empty_fragment() {
    uint32_t entry = new_state();
    uint32_t exit = new_state();
    nfa_[entry].out1 = exit;
    return {entry, exit};
  }
  Result<void> check_nfa_size() const {
    if (nfa_.size() > kMaxNfaStates) {
      return Error::make(ErrorKind::kValidation, "regex too complex: automaton larger than {} NFA states",
                         kMaxNfaStates);
    }
    return {};
  }

  Result<Fragment> emit(const Regex& regex) {
    TGI_TRY(check_nfa_size());
    switch (regex.kind()) {
      case Regex::Kind::kNothing: {
        uint32_t entry = new_state();
        return Fragment{entry, new_state()};
      }
      case Regex::Kind::kEmpty:
        return empty_fragment();
      case Regex::Kind::kSet:
        return emit_set(regex.set());
      case Regex::Kind::kConcat: {
        std::optional<Fragment> whole;
        for (const Regex& part : regex.children()) {
          TGI_ASSIGN_OR_RETURN(Fragment piece, emit(part));
          if (whole) {
            nfa_[whole->exit].out1 = piece.entry;
            whole->exit = piece.exit;
          } else {
            whole = piece;
          }
        }
        if (!whole) return empty_fragment();
        return *whole;
      }
      case Regex::Kind::kAlt: {
        uint32_t entry = new_state();
        uint32_t exit = new_state();
        std::vector<uint32_t> entries;
        for (const Regex& choice : regex.children()) {
          TGI_ASSIGN_OR_RETURN(Fragment piece, emit(choice));
          nfa_[piece.exit].out1 = exit;
          entries.push_back(piece.entry);
        }
        fan_out(entry, entries);
        return Fragment{entry, exit};
      }
      case Regex::Kind::kRepeat:
        return emit_repeat(regex.children()[0], regex.min(), regex.max());
      case Regex::Kind::kIntersect:
      case Regex::Kind::kDifference:
        return emit_product(regex);
    }
    return Error::make(ErrorKind::kInternal, "regex: unknown node kind");
  }

  // The set's byte sequences as a small automaton that shares common suffixes (every sequence
  // ends in the same continuation-byte states), so subset construction meets few distinct states.
  Fragment emit_set(const CodepointSet& set) {
    uint32_t entry = new_state();
    uint32_t exit = new_state();
    std::unordered_map<uint64_t, uint32_t> shared;
    std::vector<uint32_t> starts;
    for (const Utf8Sequence& sequence : utf8_sequences(set)) {
      uint32_t next = exit;
      for (size_t i = sequence.length; i-- > 0;) {
        uint64_t key = (uint64_t{next} << 16) | (uint64_t{sequence.lo[i]} << 8) | sequence.hi[i];
        auto [it, inserted] = shared.emplace(key, 0);
        if (inserted) {
          it->second = new_byte_state(sequence.lo[i], sequence.hi[i]);
          nfa_[it->second].out1 = next;
          if (i == 0) starts.push_back(it->second);
        }
        next = it->second;
      }
    }
    fan_out(entry, starts);
    return {entry, exit};
  }

  // Bounded repeats are copied out: m copies, then n - m optional ones (x{2,4} = xx(x(x)?)?), or
  // for {m,} a loop on the last copy.
  Result<Fragment> emit_repeat(const Regex& body, uint32_t min, std::optional<uint32_t> max) {
    Fragment whole = empty_fragment();
    auto append = [&](Fragment piece) {
      nfa_[whole.exit].out1 = piece.entry;
      whole.exit = piece.exit;
    };
    for (uint32_t i = 0; i < min; ++i) {
      TGI_ASSIGN_OR_RETURN(Fragment copy, emit(body));
      if (!max && i + 1 == min) {
        uint32_t exit = new_state();
        nfa_[copy.exit].out1 = copy.entry;
        nfa_[copy.exit].out2 = exit;
        copy.exit = exit;
      }
      append(copy);
    }
    if (!max) {
      if (min == 0) {
        TGI_ASSIGN_OR_RETURN(Fragment copy, emit(body));
        uint32_t loop = new_state();
        uint32_t exit = new_state();
        nfa_[loop].out1 = copy.entry;
        nfa_[loop].out2 = exit;
        nfa_[copy.exit].out1 = loop;
        append(Fragment{loop, exit});
      }
      return whole;
    }
    uint32_t exit = new_state();
    for (uint32_t i = min; i < *max; ++i) {
      TGI_ASSIGN_OR_RETURN(Fragment copy, emit(body));
      uint32_t choice = new_state();
      nfa_[choice].out1 = copy.entry;
      nfa_[choice].out2 = exit;
      nfa_[whole.exit].out1 = choice;
      whole.exit = copy.exit;
    }
    nfa_[whole.exit].out1 = exit;
    whole.exit = exit;
    return whole;
  }

  Result<Fragment> emit_product(const Regex& regex) {
    // A node inside a bounded repeat is emitted once per copy; its DFA is built once.
    const void* key = &regex.children();
    auto cached = products_.find(key);
    if (cached == products_.end()) {
      TGI_ASSIGN_OR_RETURN(LexemeDfa product, build_product(regex));
      cached = products_.emplace(key, std::move(product)).first;
    }
    const LexemeDfa& dfa = cached->second;
    uint64_t estimate = nfa_.size() + uint64_t{dfa.state_count()} * 4;
    if (estimate > kMaxNfaStates) {
      return Error::make(ErrorKind::kValidation, "regex too complex: automaton larger than {} NFA states",
                         kMaxNfaStates);
    }
    return embed(dfa);
  }

  Result<LexemeDfa> build_product(const Regex& regex) {
    std::vector<LexemeDfa> operands;
    for (const Regex& child : regex.children()) {
      TGI_ASSIGN_OR_RETURN(LexemeDfa operand, LexemeDfa::build(child, limits_));
      operands.push_back(std::move(operand));
    }
    bool difference = regex.kind() == Regex::Kind::kDifference;
    LexemeDfa result = std::move(operands[0]);
    for (size_t i = 1; i < operands.size(); ++i) {
      TGI_ASSIGN_OR_RETURN(LexemeDfa raw, product(result, operands[i], difference));
      TGI_ASSIGN_OR_RETURN(result, finalize(raw));
    }
    return result;
  }

  // Pairs of states reachable together. For a difference the right side may have died (it can no
  // longer match), which only helps the left; for an intersection both must live.
  Result<LexemeDfa> product(const LexemeDfa& left, const LexemeDfa& right, bool difference) {
    LexemeDfa out;
    if (left.start_ == LexemeDfa::kDead || (!difference && right.start_ == LexemeDfa::kDead)) return out;
    std::vector<std::pair<uint32_t, uint32_t>> class_pairs;
    std::unordered_map<uint32_t, uint8_t> class_of_pair;
    for (int b = 0; b < 256; ++b) {
      uint32_t pair_key = (uint32_t{left.byte_class_[b]} << 8) | right.byte_class_[b];
      auto [it, inserted] = class_of_pair.emplace(pair_key, static_cast<uint8_t>(class_pairs.size()));
      if (inserted) class_pairs.emplace_back(left.byte_class_[b], right.byte_class_[b]);
      out.byte_class_[b] = it->second;
    }
    out.class_count_ = static_cast<uint32_t>(class_pairs.size());
    const uint64_t right_states = uint64_t{right.state_count()} + 1;  // + "right is dead"
    auto pair_id = [&](uint32_t a, uint32_t b) {
      return uint64_t{a} * right_states + (b == LexemeDfa::kDead ? right.state_count() : b);
    };
    std::unordered_map<uint64_t, uint32_t> ids;
    std::vector<std::pair<uint32_t, uint32_t>> states;
    auto intern = [&](uint32_t a, uint32_t b) -> Result<uint32_t> {
      auto [it, inserted] = ids.emplace(pair_id(a, b), static_cast<uint32_t>(states.size()));
      if (inserted) {
        if (states.size() >= intermediate_limit_) return too_many_states(limits_.max_states);
        states.emplace_back(a, b);
      }
      return it->second;
    };
    TGI_ASSIGN_OR_RETURN(out.start_, intern(left.start_, right.start_));
    for (size_t i = 0; i < states.size(); ++i) {
      auto [a, b] = states[i];
      bool right_accepts = b != LexemeDfa::kDead && right.accepting(b);
      out.accepting_.push_back(left.accepting(a) && (difference ? !right_accepts : right_accepts));
      for (const auto& [left_class, right_class] : class_pairs) {
        uint32_t next_a = left.transitions_[size_t{a} * left.class_count_ + left_class];
        uint32_t next_b = b == LexemeDfa::kDead
                              ? LexemeDfa::kDead
                              : right.transitions_[size_t{b} * right.class_count_ + right_class];
        uint32_t target = LexemeDfa::kDead;
        if (next_a != LexemeDfa::kDead && (difference || next_b != LexemeDfa::kDead)) {
          TGI_ASSIGN_OR_RETURN(target, intern(next_a, next_b));
        }
        out.transitions_.push_back(target);
      }
    }
    return out;
  }

  // A finished DFA as an NFA fragment: one epsilon state per DFA state, one byte state per run of
  // bytes with the same target.
  Fragment embed(const LexemeDfa& dfa) {
    uint32_t exit = new_state();
    if (dfa.start_ == LexemeDfa::kDead) return Fragment{new_state(), exit};
    uint32_t base = static_cast<uint32_t>(nfa_.size());
    for (uint32_t q = 0; q < dfa.state_count(); ++q) new_state();
    std::vector<uint32_t> targets;
    for (uint32_t q = 0; q < dfa.state_count(); ++q) {
      targets.clear();
      int b = 0;
      while (b < 256) {
        uint32_t target = dfa.next(q, static_cast<uint8_t>(b));
        int run_end = b;
        while (run_end + 1 < 256 && dfa.next(q, static_cast<uint8_t>(run_end + 1)) == target) ++run_end;
        if (target != LexemeDfa::kDead) {
          uint32_t edge = new_byte_state(static_cast<uint8_t>(b), static_cast<uint8_t>(run_end));
          nfa_[edge].out1 = base + target;
          targets.push_back(edge);
        }
        b = run_end + 1;
      }
      if (dfa.accepting(q)) targets.push_back(exit);
      fan_out(base + q, targets);
    }
    return Fragment{base + dfa.start_, exit};
  }

  // Subset construction. The byte alphabet is cut at every edge boundary, so each NFA edge covers
  // a contiguous run of these interval classes.
  Result<LexemeDfa> determinize(uint32_t nfa_start) {
    LexemeDfa out;
    std::array<bool, 257> boundary{};
    for (const NfaState& s : nfa_) {
      if (!s.consumes) continue;
      boundary[s.lo] = true;
      boundary[size_t{s.hi} + 1] = true;
    }
    uint32_t classes = 0;
    for (int b = 0; b < 256; ++b) {
      if (b > 0 && boundary[b]) ++classes;
      out.byte_class_[b] = static_cast<uint8_t>(classes);
    }
    out.class_count_ = classes + 1;

    std::unordered_map<std::vector<uint32_t>, uint32_t, VectorHash> ids;
    std::vector<const std::vector<uint32_t>*> subsets;
    uint64_t stored_elements = 0;
    auto intern = [&](std::vector<uint32_t>&& subset) -> Result<uint32_t> {
      if (subset.empty()) return LexemeDfa::kDead;
      auto it = ids.find(subset);
      if (it != ids.end()) return it->second;
      if (subsets.size() >= intermediate_limit_) return too_many_states(limits_.max_states);
      stored_elements += subset.size();
      if (stored_elements > kMaxSubsetElements ||
          (subsets.size() + 1) * uint64_t{out.class_count_} > kMaxTransitionCells) {
        return too_many_states(limits_.max_states);
      }
      uint32_t id = static_cast<uint32_t>(subsets.size());
      it = ids.emplace(std::move(subset), id).first;
      subsets.push_back(&it->first);
      return id;
    };

    visit_mark_.assign(nfa_.size(), 0);
    stamp_ = 0;
    closure_steps_ = 0;
    std::vector<uint32_t> seeds{nfa_start};
    TGI_ASSIGN_OR_RETURN(std::vector<uint32_t> start_set, closure(seeds));
    TGI_ASSIGN_OR_RETURN(out.start_, intern(std::move(start_set)));

    std::vector<std::vector<uint32_t>> moves(out.class_count_);
    for (size_t d = 0; d < subsets.size(); ++d) {
      for (auto& move : moves) move.clear();
      bool accepting = false;
      for (uint32_t s : *subsets[d]) {
        if (s == accept_) accepting = true;
        const NfaState& state = nfa_[s];
        if (!state.consumes) continue;
        for (uint32_t c = out.byte_class_[state.lo]; c <= out.byte_class_[state.hi]; ++c) {
          moves[c].push_back(state.out1);
        }
      }
      out.accepting_.push_back(accepting);
      uint32_t previous_target = LexemeDfa::kDead;
      for (uint32_t c = 0; c < out.class_count_; ++c) {
        // Neighbouring classes often move alike (continuation-byte ranges, for one).
        if (c > 0 && moves[c] == moves[c - 1]) {
          out.transitions_.push_back(previous_target);
          continue;
        }
        TGI_ASSIGN_OR_RETURN(std::vector<uint32_t> next_set, closure(moves[c]));
        TGI_ASSIGN_OR_RETURN(previous_target, intern(std::move(next_set)));
        out.transitions_.push_back(previous_target);
      }
    }
    return out;
  }

  // The states that matter (byte states and the accept state) reachable on no input, sorted.
  Result<std::vector<uint32_t>> closure(const std::vector<uint32_t>& seeds) {
    ++stamp_;
    std::vector<uint32_t> result;
    stack_.assign(seeds.begin(), seeds.end());
    while (!stack_.empty()) {
      uint32_t s = stack_.back();
      stack_.pop_back();
      if (s == kNoState || visit_mark_[s] == stamp_) continue;
      visit_mark_[s] = stamp_;
      if (++closure_steps_ > closure_limit_) return too_many_states(limits_.max_states);
      const NfaState& state = nfa_[s];
      if (state.consumes || s == accept_) {
        result.push_back(s);
        continue;
      }
      stack_.push_back(state.out2);
      stack_.push_back(state.out1);
    }
    std::sort(result.begin(), result.end());
    return result;
  }

  // Prunes states that cannot reach acceptance, minimizes, numbers states breadth-first from the
  // start, and merges byte columns that behave alike.
  Result<LexemeDfa> finalize(const LexemeDfa& raw) {
    LexemeDfa out;
    const uint32_t n = raw.state_count();
    const uint32_t classes = raw.class_count_;
    if (raw.start_ == LexemeDfa::kDead) return out;

    // Live: can reach an accepting state (walk the reversed edges from the accepting ones).
    std::vector<uint32_t> reverse_start(size_t{n} + 1, 0);
    for (uint32_t target : raw.transitions_) {
      if (target != LexemeDfa::kDead) ++reverse_start[target + 1];
    }
    for (uint32_t q = 0; q < n; ++q) reverse_start[q + 1] += reverse_start[q];
    std::vector<uint32_t> reverse_edges(reverse_start[n]);
    {
      std::vector<uint32_t> fill(reverse_start.begin(), reverse_start.end() - 1);
      for (uint32_t q = 0; q < n; ++q) {
        for (uint32_t c = 0; c < classes; ++c) {
          uint32_t target = raw.transitions_[size_t{q} * classes + c];
          if (target != LexemeDfa::kDead) reverse_edges[fill[target]++] = q;
        }
      }
    }
    std::vector<uint8_t> live(n, 0);
    std::vector<uint32_t> queue;
    for (uint32_t q = 0; q < n; ++q) {
      if (raw.accepting_[q]) live[q] = 1, queue.push_back(q);
    }
    for (size_t i = 0; i < queue.size(); ++i) {
      uint32_t q = queue[i];
      for (uint32_t e = reverse_start[q]; e < reverse_start[q + 1]; ++e) {
        uint32_t p = reverse_edges[e];
        if (!live[p]) live[p] = 1, queue.push_back(p);
      }
    }
    if (!live[raw.start_]) return out;

    // Hopcroft's partition refinement over the live states plus one sink for everything dead.
    std::vector<uint32_t> index(n, kNoState);
    uint32_t live_count = 0;
    for (uint32_t q = 0; q < n; ++q) {
      if (live[q]) index[q] = live_count++;
    }
    const uint32_t sink = live_count;
    const uint32_t m = live_count + 1;
    std::vector<uint32_t> delta(size_t{m} * classes, sink);
    std::vector<uint8_t> accepting(m, 0);
    for (uint32_t q = 0; q < n; ++q) {
      if (!live[q]) continue;
      accepting[index[q]] = raw.accepting_[q];
      for (uint32_t c = 0; c < classes; ++c) {
        uint32_t target = raw.transitions_[size_t{q} * classes + c];
        if (target != LexemeDfa::kDead && live[target]) delta[size_t{index[q]} * classes + c] = index[target];
      }
    }
    // Bytes that every state treats alike share a column; merging them first shrinks the work.
    ClassMerge premerge = merge_equal_columns(delta, m, classes);
    const uint32_t reduced = static_cast<uint32_t>(premerge.representatives.size());
    std::vector<uint32_t> reduced_delta(size_t{m} * reduced);
    for (uint32_t q = 0; q < m; ++q) {
      for (uint32_t k = 0; k < reduced; ++k) {
        reduced_delta[size_t{q} * reduced + k] = delta[size_t{q} * classes + premerge.representatives[k]];
      }
    }
    std::vector<uint32_t> block_of = minimize(reduced_delta, accepting, m, reduced);

    // Number the blocks breadth-first from the start; the sink's block becomes kDead.
    const uint32_t sink_block = block_of[sink];
    uint32_t block_count = *std::max_element(block_of.begin(), block_of.end()) + 1;
    std::vector<uint32_t> representative(block_count, kNoState);
    for (uint32_t q = 0; q < m; ++q) {
      if (representative[block_of[q]] == kNoState) representative[block_of[q]] = q;
    }
    std::vector<uint32_t> number(block_count, kNoState);
    std::vector<uint32_t> order;
    uint32_t start_block = block_of[index[raw.start_]];
    number[start_block] = 0;
    order.push_back(start_block);
    for (size_t i = 0; i < order.size(); ++i) {
      uint32_t q = representative[order[i]];
      for (uint32_t k = 0; k < reduced; ++k) {
        uint32_t target_block = block_of[reduced_delta[size_t{q} * reduced + k]];
        if (target_block != sink_block && number[target_block] == kNoState) {
          number[target_block] = static_cast<uint32_t>(order.size());
          order.push_back(target_block);
        }
      }
    }
    const uint32_t states = static_cast<uint32_t>(order.size());
    if (states > limits_.max_states) return too_many_states(limits_.max_states);

    std::vector<uint32_t> table(size_t{states} * reduced);
    for (uint32_t i = 0; i < states; ++i) {
      uint32_t q = representative[order[i]];
      for (uint32_t k = 0; k < reduced; ++k) {
        uint32_t target_block = block_of[reduced_delta[size_t{q} * reduced + k]];
        table[size_t{i} * reduced + k] = target_block == sink_block ? LexemeDfa::kDead : number[target_block];
      }
    }
    // Minimization can make more columns equal.
    ClassMerge merge = merge_equal_columns(table, states, reduced);
    out.class_count_ = static_cast<uint32_t>(merge.representatives.size());
    for (int b = 0; b < 256; ++b) {
      out.byte_class_[b] = static_cast<uint8_t>(merge.group_of[premerge.group_of[raw.byte_class_[b]]]);
    }
    out.start_ = 0;
    out.transitions_.resize(size_t{states} * out.class_count_);
    out.accepting_.resize(states);
    out.has_exits_.resize(states);
    for (uint32_t i = 0; i < states; ++i) {
      out.accepting_[i] = accepting[representative[order[i]]];
      bool exits = false;
      for (uint32_t k = 0; k < out.class_count_; ++k) {
        uint32_t target = table[size_t{i} * reduced + merge.representatives[k]];
        out.transitions_[size_t{i} * out.class_count_ + k] = target;
        exits = exits || target != LexemeDfa::kDead;
      }
      out.has_exits_[i] = exits;
    }
    return out;
  }

  // Hopcroft: split blocks by their members' predecessors under each class, always queueing the
  // smaller half. Returns each state's block.
  static std::vector<uint32_t> minimize(const std::vector<uint32_t>& delta,
                                        const std::vector<uint8_t>& accepting, uint32_t m, uint32_t classes) {
    // Predecessors of (class, target), as one array sliced by `pred_start`.
    std::vector<uint32_t> pred_start(size_t{classes} * m + 1, 0);
    for (uint32_t q = 0; q < m; ++q) {
      for (uint32_t c = 0; c < classes; ++c) ++pred_start[size_t{c} * m + delta[size_t{q} * classes + c] + 1];
    }
    for (size_t i = 1; i < pred_start.size(); ++i) pred_start[i] += pred_start[i - 1];
    std::vector<uint32_t> preds(pred_start.back());
    {
      std::vector<uint32_t> fill(pred_start.begin(), pred_start.end() - 1);
      for (uint32_t q = 0; q < m; ++q) {
        for (uint32_t c = 0; c < classes; ++c)
          preds[fill[size_t{c} * m + delta[size_t{q} * classes + c]]++] = q;
      }
    }

    struct Block {
      uint32_t begin, end, marked_end;
    };
    std::vector<uint32_t> elements(m);
    std::vector<uint32_t> position(m);
    std::vector<uint32_t> block_of(m);
    std::vector<Block> blocks;
    {
      uint32_t at = 0;
      for (uint8_t want : {uint8_t{1}, uint8_t{0}}) {
        uint32_t begin = at;
        for (uint32_t q = 0; q < m; ++q) {
          if ((accepting[q] != 0) != (want != 0)) continue;
          elements[at] = q;
          position[q] = at;
          block_of[q] = static_cast<uint32_t>(blocks.size());
          ++at;
        }
        if (at > begin) blocks.push_back(Block{begin, at, begin});
      }
    }
    std::vector<uint32_t> worklist;
    std::vector<uint8_t> queued(blocks.size(), 0);
    auto size_of = [&](uint32_t b) { return blocks[b].end - blocks[b].begin; };
    uint32_t first = 0;
    if (blocks.size() == 2 && size_of(1) < size_of(0)) first = 1;
    // The DFA is complete (the sink), so splitting by one half implies splitting by the other.
    worklist.push_back(first);
    queued[first] = 1;

    std::vector<uint32_t> splitter;
    std::vector<uint32_t> touched;
    while (!worklist.empty()) {
      uint32_t b = worklist.back();
      worklist.pop_back();
      queued[b] = 0;
      splitter.assign(elements.begin() + blocks[b].begin, elements.begin() + blocks[b].end);
      for (uint32_t c = 0; c < classes; ++c) {
        touched.clear();
        for (uint32_t s : splitter) {
          size_t key = size_t{c} * m + s;
          for (uint32_t e = pred_start[key]; e < pred_start[key + 1]; ++e) {
            uint32_t p = preds[e];
            Block& block = blocks[block_of[p]];
            if (position[p] < block.marked_end) continue;
            if (block.marked_end == block.begin) touched.push_back(block_of[p]);
            uint32_t swap_with = elements[block.marked_end];
            std::swap(elements[position[p]], elements[block.marked_end]);
            position[swap_with] = position[p];
            position[p] = block.marked_end;
            ++block.marked_end;
          }
        }
        for (uint32_t y : touched) {
          if (blocks[y].marked_end == blocks[y].end) {
            blocks[y].marked_end = blocks[y].begin;
            continue;
          }
          uint32_t z = static_cast<uint32_t>(blocks.size());
          blocks.push_back(Block{blocks[y].begin, blocks[y].marked_end, blocks[y].begin});
          blocks[y].begin = blocks[y].marked_end;
          for (uint32_t i = blocks[z].begin; i < blocks[z].end; ++i) block_of[elements[i]] = z;
          queued.push_back(0);
          uint32_t add = queued[y] || size_of(z) <= size_of(y) ? z : y;
          worklist.push_back(add);
          queued[add] = 1;
        }
      }
    }
    return block_of;
  }

  const LexemeDfaLimits& limits_;
  uint32_t intermediate_limit_ = 0;
  uint64_t closure_limit_ = 0;
  std::vector<NfaState> nfa_;
  uint32_t accept_ = kNoState;
  std::unordered_map<const void*, LexemeDfa> products_;
  std::vector<uint32_t> visit_mark_;
  std::vector<uint32_t> stack_;
  uint32_t stamp_ = 0;
  uint64_t closure_steps_ = 0;
};

namespace {

// A regex that is a finite set of literal strings (a key, a punctuation mark, an enum), as their
// UTF-8 spellings; nullopt otherwise. Most lexemes of a JSON-Schema grammar are literals, and for
// them a trie is the automaton: no NFA, subset construction or minimization needed.
std::optional<std::vector<std::string>> literal_strings(const Regex& regex, size_t max_bytes) {
  auto single = [](const Regex& r) -> std::optional<char32_t> {
    if (r.kind() != Regex::Kind::kSet || r.set().ranges().size() != 1) return std::nullopt;
    const CodepointRange range = r.set().ranges()[0];
    if (range.first != range.last) return std::nullopt;
    return range.first;
  };
  auto spell = [&](const Regex& r) -> std::optional<std::string> {
    std::string out;
    auto append = [&](char32_t c) { utf8::append(out, c); };
    if (r.kind() == Regex::Kind::kEmpty) return out;
    if (auto c = single(r)) {
      append(*c);
      return out;
    }
    if (r.kind() != Regex::Kind::kConcat) return std::nullopt;
    for (const Regex& part : r.children()) {
      auto c = single(part);
      if (!c) return std::nullopt;
      append(*c);
    }
    return out;
  };
  std::vector<std::string> out;
  size_t bytes = 0;
  auto add = [&](const Regex& r) {
    auto s = spell(r);
    if (!s) return false;
    bytes += s->size() + 1;
    out.push_back(std::move(*s));
    return bytes <= max_bytes;
  };
  if (regex.kind() == Regex::Kind::kAlt) {
    for (const Regex& choice : regex.children())
      if (!add(choice)) return std::nullopt;
  } else if (!add(regex)) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

// The trie of a finite set of strings, as a DFA (every node leads to a string's end, so nothing
// needs pruning). Byte classes: one per byte the strings use, and one for every other byte.
LexemeDfa LexemeDfa::build_literals(std::vector<std::string> strings) {
  LexemeDfa out;
  std::sort(strings.begin(), strings.end());
  strings.erase(std::unique(strings.begin(), strings.end()), strings.end());
  bool used[256] = {};
  for (const std::string& s : strings)
    for (char c : s) used[static_cast<uint8_t>(c)] = true;
  uint32_t classes = 1;  // class 0: bytes no string uses
  for (int b = 0; b < 256; ++b) out.byte_class_[b] = used[b] ? static_cast<uint8_t>(classes++) : 0;
  out.class_count_ = classes;
  auto add_state = [&] {
    out.transitions_.resize(out.transitions_.size() + classes, kDead);
    out.accepting_.push_back(0);
    out.has_exits_.push_back(0);
    return static_cast<uint32_t>(out.accepting_.size() - 1);
  };
  out.start_ = add_state();
  for (const std::string& s : strings) {
    uint32_t state = out.start_;
    for (char c : s) {
      const size_t cell = static_cast<size_t>(state) * classes + out.byte_class_[static_cast<uint8_t>(c)];
      if (out.transitions_[cell] == kDead) {
        const uint32_t fresh = add_state();
        out.transitions_[static_cast<size_t>(state) * classes + out.byte_class_[static_cast<uint8_t>(c)]] =
            fresh;
        out.has_exits_[state] = 1;
      }
      state =
          out.transitions_[static_cast<size_t>(state) * classes + out.byte_class_[static_cast<uint8_t>(c)]];
    }
    out.accepting_[state] = 1;
  }
  // Merge states with equal futures, children first (each state was created after its parent),
  // which makes the acyclic automaton minimal.
  const uint32_t n = out.state_count();
  std::vector<uint32_t> canonical(n);
  std::map<std::vector<uint32_t>, uint32_t> by_signature;
  std::vector<uint32_t> signature(classes + 1);
  for (uint32_t q = n; q-- > 0;) {
    signature[0] = out.accepting_[q];
    for (uint32_t c = 0; c < classes; ++c) {
      const uint32_t t = out.transitions_[static_cast<size_t>(q) * classes + c];
      signature[c + 1] = t == kDead ? kDead : canonical[t];
    }
    canonical[q] = by_signature.try_emplace(signature, q).first->second;
  }
  // Renumber the representatives densely, start first.
  std::vector<uint32_t> number(n, kDead);
  std::vector<uint32_t> order;
  number[canonical[out.start_]] = 0;
  order.push_back(canonical[out.start_]);
  for (size_t k = 0; k < order.size(); ++k) {
    for (uint32_t c = 0; c < classes; ++c) {
      const uint32_t t = out.transitions_[static_cast<size_t>(order[k]) * classes + c];
      if (t == kDead || number[canonical[t]] != kDead) continue;
      number[canonical[t]] = static_cast<uint32_t>(order.size());
      order.push_back(canonical[t]);
    }
  }
  LexemeDfa minimal;
  std::copy(std::begin(out.byte_class_), std::end(out.byte_class_), std::begin(minimal.byte_class_));
  minimal.class_count_ = classes;
  minimal.start_ = 0;
  minimal.transitions_.assign(order.size() * classes, kDead);
  for (size_t k = 0; k < order.size(); ++k) {
    minimal.accepting_.push_back(out.accepting_[order[k]]);
    minimal.has_exits_.push_back(out.has_exits_[order[k]]);
    for (uint32_t c = 0; c < classes; ++c) {
      const uint32_t t = out.transitions_[static_cast<size_t>(order[k]) * classes + c];
      if (t != kDead) minimal.transitions_[k * classes + c] = number[canonical[t]];
    }
  }
  return minimal;
}

Result<LexemeDfa> LexemeDfa::build(const Regex& regex, const LexemeDfaLimits& limits) {
  if (auto strings = literal_strings(regex, size_t{limits.max_states} / 2))
    return build_literals(std::move(*strings));
  LexemeDfaBuilder builder(limits);
  return builder.compile(regex);
}

bool LexemeDfa::matches(std::string_view bytes) const {
  uint32_t state = start_;
  for (char c : bytes) {
    if (state == kDead) return false;
    state = next(state, static_cast<uint8_t>(c));
  }
  return state != kDead && accepting(state);
}

}  // namespace tgi::grammar
