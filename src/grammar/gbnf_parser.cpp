// GBNF -> Grammar, in two passes: the text is parsed into a small tree (rules, alternatives,
// sequences of items with their repetitions) and checked (undefined rules, `root`), then the tree is
// lowered onto a GrammarBuilder. Lowering merges maximal runs of regular items of a sequence
// (literals, classes, groups of them, and small non-recursive rules copied in) into one lexeme
// (Regex::concat) so the Earley matcher takes fewer steps; a merged lexeme whose DFA would be too
// large is split again, down to one item, which falls back to rules.
//
// The syntax is llama.cpp's (grammars/README.md): a rule is `name ::= alternatives` and ends at a
// newline, except inside ( ) and right after `|`; `#` starts a comment that runs to the end of the
// line; names are [a-zA-Z0-9-]+; a later definition of a rule replaces an earlier one. Positions in
// messages are 1-based lines and columns counted in code points.
#include "grammar/gbnf_parser.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "grammar/codepoint_set.h"
#include "grammar/lexeme_dfa.h"
#include "grammar/regex.h"

namespace tgi::grammar {
namespace {

constexpr uint32_t kMaxNesting = 200;        // ( ) depth
constexpr uint64_t kMaxMergedSize = 4096;    // Regex::expanded_size() of one merged lexeme
constexpr uint32_t kMaxMergedStates = 4096;  // DFA states of one merged lexeme (trial build)
constexpr uint64_t kMaxInlineSize = 1024;    // a rule copied into the lexemes of its users
constexpr uint32_t kMaxInlineDepth = 32;     // rules inlined within rules being inlined
constexpr size_t kNoOffset = static_cast<size_t>(-1);

struct Repetition {
  uint32_t min = 0;
  std::optional<uint32_t> max;
};

enum class ItemKind { kTerminal, kRule, kGroup };

struct Item {
  ItemKind kind = ItemKind::kTerminal;
  Regex regex = Regex::empty();         // kTerminal: a literal, a class or `.`
  bool empty_literal = false;           // kTerminal: ""
  uint32_t index = 0;                   // kRule: index into rules; kGroup: index into groups
  std::vector<Repetition> repetitions;  // applied in order: ("a"*)? is {*, ?}
};

using Sequence = std::vector<Item>;

struct Group {
  std::vector<Sequence> alternatives;
};

struct RuleDef {
  std::string name;
  size_t first_reference = kNoOffset;  // byte offset of the first use
  bool defined = false;
  uint32_t body = 0;  // group index
};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
bool is_surrogate(char32_t c) {
  return c >= 0xD800 && c <= 0xDFFF;
}

// Decodes one strictly valid UTF-8 sequence at `text[pos]`; returns its length, or 0 when invalid.
size_t decode_utf8(std::string_view text, size_t pos, char32_t& out) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t b0 = byte(pos);
  if (b0 < 0x80) {
    out = b0;
    return 1;
  }
  size_t len = 0;
  char32_t value = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, value = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, value = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, value = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (pos + len > text.size()) return 0;
  for (size_t i = 1; i < len; ++i) {
    const uint8_t b = byte(pos + i);
    if ((b & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > CodepointSet::kMaxCodepoint || is_surrogate(value)) return 0;
  out = value;
  return len;
}

std::string describe(char32_t c) {
  if (c >= 0x21 && c < 0x7F) return fmt::format("'{}'", static_cast<char>(c));
  return fmt::format("U+{:04X}", static_cast<uint32_t>(c));
}

// ---------------------------------------------------------------------------------------------
// Parsing

class Parser {
 public:
  Parser(std::string_view text, const GrammarLimits& limits) : text_(text), limits_(limits) {}

  bool parse() {
    if (text_.find('\0') != std::string_view::npos) {
      return fail(text_.find('\0'), "NUL byte in the grammar");
    }
    skip_space(true);
    if (pos_ == text_.size()) return fail(pos_, "empty grammar: no rules");
    while (pos_ < text_.size()) {
      if (!parse_rule()) return false;
    }
    return true;
  }

  Error error() const { return *error_; }
  std::vector<RuleDef>& rules() { return rules_; }
  std::vector<Group>& groups() { return groups_; }
  std::optional<uint32_t> rule_index(const std::string& name) const {
    auto it = rule_ids_.find(name);
    if (it == rule_ids_.end()) return std::nullopt;
    return it->second;
  }

  Error error_at(size_t offset, std::string message) const {
    // Line and column of `offset`, counting code points (UTF-8 lead bytes) for the column.
    size_t line = 1;
    size_t column = 1;
    const size_t end = std::min(offset, text_.size());
    for (size_t i = 0; i < end; ++i) {
      const char c = text_[i];
      if (c == '\n' || (c == '\r' && (i + 1 >= text_.size() || text_[i + 1] != '\n'))) {
        ++line;
        column = 1;
      } else if (c != '\r' && (static_cast<uint8_t>(c) & 0xC0) != 0x80) {
        ++column;
      }
    }
    return Error{ErrorKind::kValidation, fmt::format("GBNF line {}:{}: {}", line, column, message)};
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }

  template <typename... Args>
  bool fail(size_t offset, fmt::format_string<Args...> f, Args&&... args) {
    if (!error_) error_ = error_at(offset, fmt::format(f, std::forward<Args>(args)...));
    return false;
  }

  void skip_space(bool newline_ok) {
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t' || (newline_ok && (c == '\r' || c == '\n'))) {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && peek() != '\r' && peek() != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string_view parse_name() {
    const size_t start = pos_;
    while (!at_end() && is_name_char(peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  bool check_size() {
    if (rules_.size() + groups_.size() > limits_.max_rules) {
      return fail(pos_, "grammar too large: more than {} rules and groups", limits_.max_rules);
    }
    return true;
  }

  uint32_t rule_for(std::string_view name) {
    auto [it, inserted] = rule_ids_.emplace(std::string(name), static_cast<uint32_t>(rules_.size()));
    if (inserted) rules_.push_back(RuleDef{std::string(name)});
    return it->second;
  }

  bool parse_rule() {
    const size_t start = pos_;
    const std::string_view name = parse_name();
    if (name.empty()) {
      if (peek() == '|') {
        return fail(pos_,
                    "expected a rule name, found '|' (an alternative continues on the next line "
                    "only after a trailing '|' or inside parentheses)");
      }
      return fail(pos_, "expected a rule name");
    }
    skip_space(false);
    if (text_.substr(pos_, 3) != "::=") {
      return fail(pos_, "expected '::=' after rule name '{}'", name);
    }
    pos_ += 3;
    skip_space(true);
    const uint32_t rule = rule_for(name);
    if (!check_size()) return false;
    std::optional<uint32_t> body = parse_alternates(false, 0);
    if (!body) return false;
    rules_[rule].defined = true;
    rules_[rule].body = *body;
    if (rules_[rule].first_reference == kNoOffset) rules_[rule].first_reference = start;
    if (!at_end()) {
      if (peek() == '\r') {
        pos_ += peek(1) == '\n' ? 2 : 1;
      } else if (peek() == '\n') {
        ++pos_;
      } else if (peek() == ')') {
        return fail(pos_, "unmatched ')'");
      } else {
        return unexpected();
      }
    }
    skip_space(true);
    return true;
  }

  bool unexpected() {
    char32_t c = 0;
    if (decode_utf8(text_, pos_, c) == 0) return fail(pos_, "invalid UTF-8");
    return fail(pos_, "unexpected {}", describe(c));
  }

  // Alternatives up to (not including) a `)`, a newline that ends the rule, or the end.
  std::optional<uint32_t> parse_alternates(bool nested, uint32_t depth) {
    const uint32_t index = static_cast<uint32_t>(groups_.size());
    groups_.emplace_back();
    if (!check_size()) return std::nullopt;
    while (true) {
      Sequence sequence;
      if (!parse_sequence(nested, depth, sequence)) return std::nullopt;
      groups_[index].alternatives.push_back(std::move(sequence));
      if (peek() != '|' || at_end()) break;
      ++pos_;
      skip_space(true);
    }
    return index;
  }

  bool parse_sequence(bool nested, uint32_t depth, Sequence& sequence) {
    while (!at_end()) {
      const char c = peek();
      const size_t start = pos_;
      if (c == '"') {
        Item item;
        if (!parse_literal(item)) return false;
        sequence.push_back(std::move(item));
      } else if (c == '[') {
        Item item;
        if (!parse_class(item)) return false;
        sequence.push_back(std::move(item));
      } else if (c == '.') {
        ++pos_;
        Item item;
        item.regex = Regex::any_character();
        sequence.push_back(std::move(item));
      } else if (is_name_char(c)) {
        const std::string_view name = parse_name();
        Item item;
        item.kind = ItemKind::kRule;
        item.index = rule_for(name);
        if (rules_[item.index].first_reference == kNoOffset) rules_[item.index].first_reference = start;
        if (!check_size()) return false;
        sequence.push_back(std::move(item));
      } else if (c == '(') {
        if (depth + 1 > kMaxNesting) return fail(start, "groups nested deeper than {} levels", kMaxNesting);
        ++pos_;
        skip_space(true);
        std::optional<uint32_t> group = parse_alternates(true, depth + 1);
        if (!group) return false;
        if (at_end()) return fail(start, "unterminated group: missing ')'");
        if (peek() != ')') return unexpected();
        ++pos_;
        Item item;
        item.kind = ItemKind::kGroup;
        item.index = *group;
        sequence.push_back(std::move(item));
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        Repetition repetition;
        if (c == '{') {
          if (!parse_bounds(repetition)) return false;
        } else {
          ++pos_;
          repetition.min = c == '+' ? 1 : 0;
          if (c == '?') repetition.max = 1;
        }
        if (sequence.empty()) return fail(start, "'{}' must follow an item", c);
        sequence.back().repetitions.push_back(repetition);
      } else if (c == '<' || (c == '!' && peek(1) == '<')) {
        return fail(start, "token references (<...>) are not supported: they constrain token ids, not text");
      } else {
        break;  // `|`, `)`, a newline or something the caller reports
      }
      skip_space(nested);
    }
    return true;
  }

  // {m} {m,} {m,n}, with optional spaces inside the braces.
  bool parse_bounds(Repetition& repetition) {
    const size_t start = pos_;
    ++pos_;
    skip_space(false);
    std::optional<uint64_t> min = parse_int();
    if (!min) return at_end() ? fail(start, "unterminated repetition '{{'") : fail(pos_, "expected a number");
    skip_space(false);
    std::optional<uint64_t> max = min;
    if (peek() == ',') {
      ++pos_;
      skip_space(false);
      max = std::nullopt;
      if (is_digit(peek())) max = parse_int();
      skip_space(false);
    }
    if (at_end()) return fail(start, "unterminated repetition '{{'");
    if (peek() != '}') return fail(pos_, "expected '}}' or ','");
    ++pos_;
    if (*min > limits_.max_repeat || (max && *max > limits_.max_repeat)) {
      return fail(start, "repetition bound {} is over the limit of {}", std::max(*min, max.value_or(0)),
                  limits_.max_repeat);
    }
    if (max && *max < *min)
      return fail(start, "repetition {{{},{}}} has its maximum below its minimum", *min, *max);
    repetition.min = static_cast<uint32_t>(*min);
    if (max) repetition.max = static_cast<uint32_t>(*max);
    return true;
  }

  std::optional<uint64_t> parse_int() {
    if (!is_digit(peek())) return std::nullopt;
    uint64_t value = 0;
    while (is_digit(peek())) {
      value = std::min<uint64_t>(value * 10 + static_cast<uint64_t>(peek() - '0'), uint64_t{1} << 40);
      ++pos_;
    }
    return value;
  }

  // One character of a literal or class: an escape or a UTF-8 sequence.
  bool parse_char(char32_t& out) {
    const size_t start = pos_;
    if (peek() != '\\') {
      const size_t len = decode_utf8(text_, pos_, out);
      if (len == 0) return fail(pos_, "invalid UTF-8");
      pos_ += len;
      return true;
    }
    if (pos_ + 1 >= text_.size()) return fail(start, "unterminated escape");
    const char e = peek(1);
    pos_ += 2;
    int digits = 0;
    switch (e) {
      case 'x':
        digits = 2;
        break;
      case 'u':
        digits = 4;
        break;
      case 'U':
        digits = 8;
        break;
      case 't':
        out = '\t';
        return true;
      case 'n':
        out = '\n';
        return true;
      case 'r':
        out = '\r';
        return true;
      case '\\':
      case '"':
      case '[':
      case ']':
      case '-':
        out = static_cast<unsigned char>(e);
        return true;
      default: {
        char32_t c = 0;
        if (decode_utf8(text_, start + 1, c) == 0) return fail(start, "unknown escape");
        if (c >= 0x21 && c < 0x7F) return fail(start, "unknown escape '\\{}'", static_cast<char>(c));
        return fail(start, "unknown escape: '\\' then {}", describe(c));
      }
    }
    uint32_t value = 0;
    for (int i = 0; i < digits; ++i) {
      const int h = hex_value(peek());
      if (h < 0) return fail(start, "escape '\\{}' needs {} hex digits", e, digits);
      value = (value << 4) | static_cast<uint32_t>(h);
      ++pos_;
    }
    if (value > CodepointSet::kMaxCodepoint) {
      return fail(start, "escape U+{:X} is beyond U+10FFFF", value);
    }
    out = value;
    return true;
  }

  bool parse_literal(Item& item) {
    const size_t start = pos_;
    ++pos_;
    std::vector<Regex> chars;
    while (true) {
      if (at_end()) return fail(start, "unterminated string literal");
      if (peek() == '"') break;
      const size_t char_start = pos_;
      char32_t c = 0;
      if (!parse_char(c)) return false;
      if (is_surrogate(c)) return fail(char_start, "U+{:04X} is a surrogate, not a character", uint32_t{c});
      chars.push_back(Regex::character(c));
    }
    ++pos_;
    item.kind = ItemKind::kTerminal;
    item.empty_literal = chars.empty();
    item.regex = chars.empty()       ? Regex::empty()
                 : chars.size() == 1 ? chars[0]
                                     : Regex::concat(std::move(chars));
    return true;
  }

  bool parse_class(Item& item) {
    const size_t start = pos_;
    ++pos_;
    bool negated = false;
    if (peek() == '^') {
      negated = true;
      ++pos_;
    }
    CodepointSet set;
    while (true) {
      if (at_end()) return fail(start, "unterminated character class");
      if (peek() == ']') break;
      const size_t char_start = pos_;
      char32_t first = 0;
      if (!parse_char(first)) return false;
      if (peek() == '-' && pos_ + 1 < text_.size() && peek(1) != ']') {
        ++pos_;
        char32_t last = 0;
        if (!parse_char(last)) return false;
        if (last < first) {
          return fail(char_start, "reversed range {}-{} in character class", describe(first), describe(last));
        }
        set.add(CodepointSet::range(first, last));
      } else {
        if (is_surrogate(first)) {
          return fail(char_start, "U+{:04X} is a surrogate, not a character", uint32_t{first});
        }
        set.add(first);
      }
    }
    ++pos_;
    item.kind = ItemKind::kTerminal;
    item.regex = Regex::set(negated ? set.complement() : set);
    return true;
  }

  std::string_view text_;
  const GrammarLimits& limits_;
  size_t pos_ = 0;
  std::optional<Error> error_;
  std::vector<RuleDef> rules_;
  std::vector<Group> groups_;
  std::unordered_map<std::string, uint32_t> rule_ids_;
};

// ---------------------------------------------------------------------------------------------
// Lowering onto a GrammarBuilder

class Lowering {
 public:
  Lowering(Parser& parser, GrammarBuilder& builder, const GrammarLimits& limits)
      : parser_(parser),
        rules_(parser.rules()),
        groups_(parser.groups()),
        builder_(builder),
        limits_(limits),
        group_regex_(groups_.size()),
        rule_regex_(rules_.size()) {}

  Result<uint32_t> run() {
    for (const RuleDef& rule : rules_) {
      if (!rule.defined) {
        return parser_.error_at(rule.first_reference, fmt::format("undefined rule '{}'", rule.name));
      }
    }
    std::optional<uint32_t> root = parser_.rule_index("root");
    if (!root) return parser_.error_at(0, "the grammar has no 'root' rule");
    // Every rule gets its builder rule now; bodies are lowered only for rules still referenced as
    // rules once the regular ones have been copied into lexemes.
    for (const RuleDef& rule : rules_) rule_ids_.push_back(builder_.new_rule(rule.name));
    reached_.assign(rules_.size(), 0);
    reference(*root);
    while (!pending_.empty()) {
      const uint32_t r = pending_.back();
      pending_.pop_back();
      current_rule_ = r;
      for (const Sequence& alternative : groups_[rules_[r].body].alternatives) {
        std::vector<Symbol> symbols;
        TGI_TRY(lower_sequence(alternative, 0, alternative.size(), symbols));
        builder_.add_alternative(rule_ids_[r], std::move(symbols));
      }
    }
    return rule_ids_[*root];
  }

 private:
  struct CachedRegex {
    bool computed = false;
    bool in_progress = false;
    std::optional<Regex> regex;
  };

  Result<void> check_rules() {
    if (builder_.rule_count() > limits_.max_rules) {
      return Error::make(ErrorKind::kValidation, "GBNF grammar too large: more than {} rules after expansion",
                         limits_.max_rules);
    }
    return {};
  }

  static Regex apply(Regex regex, const std::vector<Repetition>& repetitions) {
    for (const Repetition& r : repetitions) regex = Regex::repeat(std::move(regex), r.min, r.max);
    return regex;
  }

  // The item as one regular expression, when it is regular: no references to rules that are not
  // (recursive ones, or those too large to copy into their users).
  std::optional<Regex> item_regex(const Item& item) {
    switch (item.kind) {
      case ItemKind::kTerminal:
        return apply(item.regex, item.repetitions);
      case ItemKind::kRule: {
        const std::optional<Regex>& base = rule_regex(item.index);
        if (!base) return std::nullopt;
        return apply(*base, item.repetitions);
      }
      case ItemKind::kGroup: {
        const std::optional<Regex>& base = group_regex(item.index);
        if (!base) return std::nullopt;
        return apply(*base, item.repetitions);
      }
    }
    return std::nullopt;
  }

  // A rule as a regex, to be copied into the lexemes of its users: only small, non-recursive ones.
  // Recursion through rules is bounded by kMaxInlineDepth (past it a rule is simply not inlined).
  const std::optional<Regex>& rule_regex(uint32_t index) {
    CachedRegex& cached = rule_regex_[index];
    if (cached.computed || cached.in_progress) return cached.regex;  // in progress: recursive
    if (inline_depth_ >= kMaxInlineDepth) return no_regex_;
    cached.in_progress = true;
    ++inline_depth_;
    std::optional<Regex> regex = group_regex(rules_[index].body);
    --inline_depth_;
    CachedRegex& done = rule_regex_[index];
    done.in_progress = false;
    done.computed = true;
    if (regex && regex->expanded_size() <= kMaxInlineSize) done.regex = std::move(regex);
    return done.regex;
  }

  // Depth is bounded by the parser's nesting limit (and kMaxInlineDepth through rules).
  const std::optional<Regex>& group_regex(uint32_t index) {
    CachedRegex& cached = group_regex_[index];
    if (cached.computed) return cached.regex;
    cached.computed = true;
    std::vector<Regex> choices;
    uint64_t size = 0;
    for (const Sequence& sequence : groups_[index].alternatives) {
      std::vector<Regex> parts;
      for (const Item& item : sequence) {
        std::optional<Regex> r = item_regex(item);
        if (!r) return group_regex_[index].regex;  // nullopt
        size += std::min<uint64_t>(r->expanded_size(), kMaxMergedSize + 1);
        if (size > kMaxMergedSize) return group_regex_[index].regex;  // too large for one lexeme
        parts.push_back(std::move(*r));
      }
      choices.push_back(parts.empty() ? Regex::empty() : parts.size() == 1 ? parts[0] : Regex::concat(parts));
    }
    group_regex_[index].regex = choices.size() == 1 ? choices[0] : Regex::alt(std::move(choices));
    return group_regex_[index].regex;
  }

  // Whether the DFA of `regex` could be much larger than the expression (it has repetition or
  // alternation); plain literals and classes cannot.
  static bool may_grow(const Regex& regex) {
    switch (regex.kind()) {
      case Regex::Kind::kNothing:
      case Regex::Kind::kEmpty:
      case Regex::Kind::kSet:
        return false;
      case Regex::Kind::kConcat:
        return std::any_of(regex.children().begin(), regex.children().end(),
                           [](const Regex& child) { return may_grow(child); });
      default:
        return true;
    }
  }

  // Whether `regex` may become one lexeme: small enough, and its DFA within bounds.
  bool fits_one_lexeme(const Regex& regex) {
    if (regex.expanded_size() > kMaxMergedSize) return false;
    if (!may_grow(regex)) return true;
    if (trial_states_ > limits_.max_lexeme_states) return false;
    LexemeDfaLimits dfa_limits;
    dfa_limits.max_states = std::min(limits_.max_states_per_lexeme, kMaxMergedStates);
    Result<LexemeDfa> dfa = LexemeDfa::build(regex, dfa_limits);
    if (!dfa.ok()) return false;
    trial_states_ += dfa->state_count();
    return true;
  }

  Result<void> push_lexeme(const Regex& regex, std::vector<Symbol>& out) {
    if (regex.kind() == Regex::Kind::kEmpty) return {};  // matches only "": nothing to add
    out.push_back(builder_.lexeme(regex));
    return {};
  }

  // items[begin, end) of a sequence, appended to `out`.
  Result<void> lower_sequence(const Sequence& items, size_t begin, size_t end, std::vector<Symbol>& out) {
    size_t i = begin;
    while (i < end) {
      if (!item_regex(items[i])) {
        TGI_TRY(lower_item(items[i], out));
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < end && item_regex(items[j])) ++j;
      TGI_TRY(lower_run(items, i, j, out));
      i = j;
    }
    return {};
  }

  // A run of terminal-only items: one lexeme if it fits, else split in halves.
  Result<void> lower_run(const Sequence& items, size_t begin, size_t end, std::vector<Symbol>& out) {
    if (end - begin == 1) {
      std::optional<Regex> regex = item_regex(items[begin]);
      if (regex && fits_one_lexeme(*regex)) return push_lexeme(*regex, out);
      return lower_item(items[begin], out);
    }
    std::vector<Regex> parts;
    uint64_t size = 0;
    for (size_t k = begin; k < end && size <= kMaxMergedSize; ++k) {
      parts.push_back(*item_regex(items[k]));
      size += std::min<uint64_t>(parts.back().expanded_size(), kMaxMergedSize + 1);
    }
    const size_t middle = begin + (end - begin) / 2;
    if (size > kMaxMergedSize) {
      TGI_TRY(lower_run(items, begin, middle, out));
      return lower_run(items, middle, end, out);
    }
    Regex merged = Regex::concat(std::move(parts));
    if (fits_one_lexeme(merged)) return push_lexeme(merged, out);
    TGI_TRY(lower_run(items, begin, middle, out));
    return lower_run(items, middle, end, out);
  }

  Symbol reference(uint32_t rule) {
    if (!reached_[rule]) {
      reached_[rule] = 1;
      pending_.push_back(rule);
    }
    return Symbol::rule(rule_ids_[rule]);
  }

  Symbol helper_rule(const std::vector<std::vector<Symbol>>& alternatives) {
    const uint32_t rule =
        builder_.new_rule(fmt::format("{}_{}", rules_[current_rule_].name, ++helper_count_));
    for (const auto& symbols : alternatives) builder_.add_alternative(rule, symbols);
    return Symbol::rule(rule);
  }

  // One item by rules: its base symbol(s), then GrammarBuilder::repeat for each repetition.
  Result<void> lower_item(const Item& item, std::vector<Symbol>& out) {
    std::optional<Symbol> symbol;
    switch (item.kind) {
      case ItemKind::kTerminal:
        if (item.regex.kind() != Regex::Kind::kEmpty) symbol = builder_.lexeme(item.regex);
        break;
      case ItemKind::kRule:
        symbol = reference(item.index);
        break;
      case ItemKind::kGroup: {
        const std::optional<Regex>& regex = group_regex(item.index);
        if (regex && fits_one_lexeme(*regex)) {
          if (regex->kind() != Regex::Kind::kEmpty) symbol = builder_.lexeme(*regex);
          break;
        }
        const Group& group = groups_[item.index];
        std::vector<std::vector<Symbol>> alternatives;
        for (const Sequence& sequence : group.alternatives) {
          std::vector<Symbol> symbols;
          TGI_TRY(lower_sequence(sequence, 0, sequence.size(), symbols));
          alternatives.push_back(std::move(symbols));
        }
        if (alternatives.size() == 1 && (item.repetitions.empty() || alternatives[0].size() <= 1)) {
          // A plain group of one alternative is spliced into the enclosing sequence.
          if (item.repetitions.empty() || alternatives[0].empty()) {
            out.insert(out.end(), alternatives[0].begin(), alternatives[0].end());
            return {};
          }
          symbol = alternatives[0][0];
        } else {
          symbol = helper_rule(alternatives);
          TGI_TRY(check_rules());
        }
        break;
      }
    }
    if (!symbol) return {};  // "" repeated is still ""
    for (const Repetition& r : item.repetitions) {
      if (r.max && *r.max == 0) return {};
      if (r.min == 1 && r.max && *r.max == 1) continue;
      symbol = builder_.repeat(*symbol, r.min, r.max);
      TGI_TRY(check_rules());
    }
    out.push_back(*symbol);
    return {};
  }

  Parser& parser_;
  std::vector<RuleDef>& rules_;
  std::vector<Group>& groups_;
  GrammarBuilder& builder_;
  const GrammarLimits& limits_;
  std::vector<CachedRegex> group_regex_;
  std::vector<CachedRegex> rule_regex_;
  const std::optional<Regex> no_regex_;
  uint32_t inline_depth_ = 0;
  std::vector<uint8_t> reached_;   // per rule: its body is (to be) lowered
  std::vector<uint32_t> pending_;  // reached rules whose bodies are not lowered yet
  std::vector<uint32_t> rule_ids_;
  uint32_t current_rule_ = 0;
  uint32_t helper_count_ = 0;
  uint64_t trial_states_ = 0;
};

}  // namespace

Result<Grammar> compile_gbnf(std::string_view text, const GrammarLimits& limits) {
  Parser parser(text, limits);
  if (!parser.parse()) return parser.error();
  GrammarBuilder builder(limits);
  Lowering lowering(parser, builder, limits);
  TGI_ASSIGN_OR_RETURN(uint32_t root, lowering.run());
  Result<Grammar> grammar = builder.build(root);
  if (!grammar.ok()) {
    return Error{ErrorKind::kValidation, fmt::format("GBNF grammar: {}", grammar.error().message)};
  }
  return grammar;
}

}  // namespace tgi::grammar
