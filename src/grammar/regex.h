#pragma once
// A regular expression over Unicode scalar values, as an immutable tree that is cheap to copy
// (nodes are shared). Every lexeme of a Grammar is one Regex; lexeme_dfa.h compiles it into a
// byte-level DFA over UTF-8. Built programmatically (the JSON-Schema and GBNF compilers) or by
// parsing pattern syntax (regex_parser.h).
//
// Besides the usual operators there are intersection and difference, which the DFA builder
// evaluates by product construction: `pattern` together with `maxLength`, or "any string except
// these property names", are single lexemes that way.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/codepoint_set.h"

namespace tgi::grammar {

class Regex {
 public:
  enum class Kind {
    kNothing,     // matches no string
    kEmpty,       // matches only ""
    kSet,         // one character from set()
    kConcat,      // children() in order
    kAlt,         // any of children()
    kRepeat,      // children()[0] repeated min()..max() times (max absent = unbounded)
    kIntersect,   // strings matched by every child
    kDifference,  // strings matched by children()[0] and not by children()[1]
  };

  static Regex nothing();
  static Regex empty();
  static Regex set(CodepointSet set);  // an empty set is nothing()
  static Regex character(char32_t c) { return set(CodepointSet::of(c)); }
  static Regex any_character() { return set(CodepointSet::any()); }
  // The characters of a UTF-8 string in sequence ("" is empty()). Invalid UTF-8 is the caller's
  // bug: each invalid byte is taken as U+FFFD.
  static Regex literal(std::string_view utf8);
  static Regex concat(std::vector<Regex> parts);
  static Regex alt(std::vector<Regex> choices);
  static Regex repeat(Regex body, uint32_t min, std::optional<uint32_t> max);
  static Regex optional(Regex body) { return repeat(std::move(body), 0, 1); }
  static Regex star(Regex body) { return repeat(std::move(body), 0, std::nullopt); }
  static Regex plus(Regex body) { return repeat(std::move(body), 1, std::nullopt); }
  static Regex intersect(std::vector<Regex> parts);
  static Regex difference(Regex from, Regex remove);

  Kind kind() const;
  const CodepointSet& set() const;             // kSet only
  const std::vector<Regex>& children() const;  // empty for leaves
  uint32_t min() const;                        // kRepeat only
  std::optional<uint32_t> max() const;         // kRepeat only

  // The same expression with every kSet leaf replaced by f(leaf). The JSON-Schema compiler uses
  // it to turn a pattern over string characters into one over their JSON-escaped spelling.
  Regex map_sets(const std::function<Regex(const CodepointSet&)>& f) const;

  // Nodes after expanding bounded repeats (saturating): a bound on the DFA builder's work that
  // callers check before compiling.
  uint64_t expanded_size() const;
  // A readable, deterministic spelling (equal trees give equal strings): for messages, tests and
  // as a deduplication key.
  std::string to_string() const;

 private:
  struct Node;
  explicit Regex(std::shared_ptr<const Node> node) : node_(std::move(node)) {}
  std::shared_ptr<const Node> node_;
};

}  // namespace tgi::grammar
