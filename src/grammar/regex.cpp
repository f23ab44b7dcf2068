#include "grammar/regex.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "core/utf8.h"

namespace tgi::grammar {

struct Regex::Node {
  Kind kind = Kind::kNothing;
  CodepointSet set;
  std::vector<Regex> children;
  uint32_t min = 0;
  std::optional<uint32_t> max;
  uint64_t expanded_size = 1;
};

namespace {

uint64_t saturating_add(uint64_t a, uint64_t b) {
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t saturating_mul(uint64_t a, uint64_t b) {
  if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
  return a * b;
}

// Decodes one UTF-8 sequence at `pos`; an invalid one yields U+FFFD and consumes one byte.
char32_t decode_utf8(std::string_view s, size_t& pos) {
  if (utf8::valid_char_len_at(s, pos) == 0) {
    ++pos;
    return utf8::kReplacementChar;
  }
  return utf8::next(s, pos);
}

}  // namespace

Regex Regex::nothing() {
  static const Regex instance(std::make_shared<const Node>(Node{Kind::kNothing, {}, {}, 0, {}, 1}));
  return instance;
}

Regex Regex::empty() {
  static const Regex instance(std::make_shared<const Node>(Node{Kind::kEmpty, {}, {}, 0, {}, 1}));
  return instance;
}

Regex Regex::set(CodepointSet set) {
  if (set.empty()) return nothing();
  return Regex(std::make_shared<const Node>(Node{Kind::kSet, std::move(set), {}, 0, {}, 1}));
}

Regex Regex::literal(std::string_view utf8) {
  std::vector<Regex> parts;
  size_t pos = 0;
  while (pos < utf8.size()) parts.push_back(character(decode_utf8(utf8, pos)));
  return concat(std::move(parts));
}

Regex Regex::concat(std::vector<Regex> parts) {
  std::vector<Regex> flat;
  flat.reserve(parts.size());
  for (Regex& part : parts) {
    switch (part.kind()) {
      case Kind::kNothing:
        return nothing();
      case Kind::kEmpty:
        break;
      case Kind::kConcat:
        flat.insert(flat.end(), part.children().begin(), part.children().end());
        break;
      default:
        flat.push_back(std::move(part));
    }
  }
  if (flat.empty()) return empty();
  if (flat.size() == 1) return std::move(flat[0]);
  uint64_t size = 1;
  for (const Regex& part : flat) size = saturating_add(size, part.expanded_size());
  return Regex(std::make_shared<const Node>(Node{Kind::kConcat, {}, std::move(flat), 0, {}, size}));
}

Regex Regex::alt(std::vector<Regex> choices) {
  std::vector<Regex> flat;
  flat.reserve(choices.size());
  // Single characters collapse into one set, placed where the first one was.
  std::optional<size_t> set_index;
  CodepointSet merged;
  bool has_empty = false;
  std::unordered_set<const Node*> seen;
  auto take = [&](const Regex& choice) {
    switch (choice.kind()) {
      case Kind::kNothing:
        return;
      case Kind::kEmpty:
        // "" is kept once, at its first position (order is irrelevant to the language).
        if (has_empty) return;
        has_empty = true;
        break;
      case Kind::kSet:
        if (!set_index) set_index = flat.size();
        merged.add(choice.set());
        if (*set_index != flat.size()) return;
        break;
      default:
        // The same shared node twice adds nothing.
        if (!seen.insert(choice.node_.get()).second) return;
    }
    flat.push_back(choice);
  };
  for (const Regex& choice : choices) {
    if (choice.kind() == Kind::kAlt) {
      for (const Regex& inner : choice.children()) take(inner);
    } else {
      take(choice);
    }
  }
  if (set_index) flat[*set_index] = set(std::move(merged));
  if (flat.empty()) return nothing();
  if (flat.size() == 1) return std::move(flat[0]);
  uint64_t size = 1;
  for (const Regex& choice : flat) size = saturating_add(size, choice.expanded_size());
  return Regex(std::make_shared<const Node>(Node{Kind::kAlt, {}, std::move(flat), 0, {}, size}));
}

Regex Regex::repeat(Regex body, uint32_t min, std::optional<uint32_t> max) {
  if (max && *max < min) return nothing();
  if (max && *max == 0) return empty();
  if (body.kind() == Kind::kNothing) return min == 0 ? empty() : nothing();
  if (body.kind() == Kind::kEmpty) return empty();
  if (min == 1 && max == 1) return body;
  // (x*)*, (x+)*, (x*)+ are x*; (x+)+ is x+.
  if (!max && min <= 1 && body.kind() == Kind::kRepeat && !body.max() && body.min() <= 1) {
    return repeat(body.children()[0], min * body.min(), std::nullopt);
  }
  // Bounded repeats are copied out by the DFA builder: n copies of the body for {m,n}, and
  // max(m, 1) copies plus a loop for {m,}.
  uint64_t copies = max ? *max : std::max<uint32_t>(min, 1);
  uint64_t size = saturating_add(saturating_mul(copies, body.expanded_size()), 1);
  return Regex(std::make_shared<const Node>(Node{Kind::kRepeat, {}, {std::move(body)}, min, max, size}));
}

Regex Regex::intersect(std::vector<Regex> parts) {
  std::vector<Regex> flat;
  flat.reserve(parts.size());
  bool all_sets = true;
  for (Regex& part : parts) {
    if (part.kind() == Kind::kNothing) return nothing();
    if (part.kind() == Kind::kIntersect) {
      flat.insert(flat.end(), part.children().begin(), part.children().end());
    } else {
      flat.push_back(std::move(part));
    }
  }
  for (const Regex& part : flat) all_sets = all_sets && part.kind() == Kind::kSet;
  // The intersection of no languages is every string.
  if (flat.empty()) return star(any_character());
  if (flat.size() == 1) return std::move(flat[0]);
  if (all_sets) {
    CodepointSet common = flat[0].set();
    for (size_t i = 1; i < flat.size(); ++i) common = common.intersect(flat[i].set());
    return set(std::move(common));
  }
  uint64_t size = 1;
  for (const Regex& part : flat) size = saturating_add(size, part.expanded_size());
  return Regex(std::make_shared<const Node>(Node{Kind::kIntersect, {}, std::move(flat), 0, {}, size}));
}

Regex Regex::difference(Regex from, Regex remove) {
  if (from.kind() == Kind::kNothing) return nothing();
  if (remove.kind() == Kind::kNothing) return from;
  if (from.kind() == Kind::kSet && remove.kind() == Kind::kSet) return set(from.set().minus(remove.set()));
  if (from.kind() == Kind::kEmpty) {
    // "" minus something that cannot match "" stays "". Which kinds can match "" is not known
    // without compiling, so only the obvious case is decided here.
    if (remove.kind() == Kind::kSet) return from;
    if (remove.kind() == Kind::kEmpty) return nothing();
  }
  uint64_t size = saturating_add(saturating_add(from.expanded_size(), remove.expanded_size()), 1);
  return Regex(std::make_shared<const Node>(
      Node{Kind::kDifference, {}, {std::move(from), std::move(remove)}, 0, {}, size}));
}

Regex::Kind Regex::kind() const {
  return node_ ? node_->kind : Kind::kNothing;
}

const CodepointSet& Regex::set() const {
  static const CodepointSet kNone;
  return node_ ? node_->set : kNone;
}

const std::vector<Regex>& Regex::children() const {
  static const std::vector<Regex> kNone;
  return node_ ? node_->children : kNone;
}

uint32_t Regex::min() const {
  return node_ ? node_->min : 0;
}

std::optional<uint32_t> Regex::max() const {
  return node_ ? node_->max : std::nullopt;
}

Regex Regex::map_sets(const std::function<Regex(const CodepointSet&)>& f) const {
  auto map_children = [&] {
    std::vector<Regex> mapped;
    mapped.reserve(children().size());
    for (const Regex& child : children()) mapped.push_back(child.map_sets(f));
    return mapped;
  };
  switch (kind()) {
    case Kind::kNothing:
    case Kind::kEmpty:
      return *this;
    case Kind::kSet:
      return f(set());
    case Kind::kConcat:
      return concat(map_children());
    case Kind::kAlt:
      return alt(map_children());
    case Kind::kRepeat:
      return repeat(children()[0].map_sets(f), min(), max());
    case Kind::kIntersect:
      return intersect(map_children());
    case Kind::kDifference:
      return difference(children()[0].map_sets(f), children()[1].map_sets(f));
  }
  return *this;
}

uint64_t Regex::expanded_size() const {
  return node_ ? node_->expanded_size : 1;
}

// Every spelling starts with '[' or '(' and is self-delimiting, so a sequence of children's
// spellings can be split back apart unambiguously: different trees give different strings.
std::string Regex::to_string() const {
  auto join = [&](std::string_view open, std::string_view separator) {
    std::string out(open);
    for (size_t i = 0; i < children().size(); ++i) {
      if (i != 0) out += separator;
      out += children()[i].to_string();
    }
    out += ')';
    return out;
  };
  switch (kind()) {
    case Kind::kNothing:
      return "(?!)";
    case Kind::kEmpty:
      return "()";
    case Kind::kSet:
      return set().to_string();
    case Kind::kConcat:
      return join("(", "");
    case Kind::kAlt:
      return join("(", "|");
    case Kind::kRepeat: {
      std::string out = children()[0].to_string();
      if (max()) {
        out += min() == *max() ? fmt::format("{{{}}}", min()) : fmt::format("{{{},{}}}", min(), *max());
      } else {
        out += fmt::format("{{{},}}", min());
      }
      return out;
    }
    case Kind::kIntersect:
      return join("(?&", "&");
    case Kind::kDifference:
      return join("(?-", "-");
  }
  return "(?!)";
}

}  // namespace tgi::grammar
