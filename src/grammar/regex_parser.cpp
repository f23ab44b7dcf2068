#include "grammar/regex_parser.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/utf8.h"

namespace tgi::grammar {

namespace {

// One alternative of the top-level alternation, with the anchors that framed it.
struct TopAlternative {
  Regex body = Regex::empty();
  bool anchored_start = false;
  bool anchored_end = false;
};

CodepointSet digit_set() {
  return CodepointSet::range('0', '9');
}

CodepointSet word_set() {
  CodepointSet set = CodepointSet::range('a', 'z');
  set.add('A', 'Z');
  set.add('0', '9');
  set.add('_');
  return set;
}

// ECMAScript's WhiteSpace and LineTerminator.
CodepointSet space_set() {
  CodepointSet set = CodepointSet::range('\t', '\r');
  for (char32_t c :
       {U' ', U'\u00a0', U'\u1680', U'\u2028', U'\u2029', U'\u202f', U'\u205f', U'\u3000', U'\ufeff'}) {
    set.add(c);
  }
  set.add(0x2000, 0x200A);
  return set;
}

// What `.` matches: every scalar value but ECMAScript's line terminators.
CodepointSet dot_set() {
  CodepointSet line_terminators = CodepointSet::of('\n');
  line_terminators.add('\r');
  line_terminators.add(0x2028, 0x2029);
  return line_terminators.complement();
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

uint32_t hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<uint32_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<uint32_t>(c - 'a' + 10);
  return static_cast<uint32_t>(c - 'A' + 10);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_ascii_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

class RegexParser {
 public:
  RegexParser(std::string_view pattern, const RegexParseLimits& limits)
      : pattern_(pattern), limits_(limits) {}

  Result<std::vector<TopAlternative>> parse_top() {
    std::vector<TopAlternative> alternatives;
    while (true) {
      TopAlternative alternative;
      if (peek_is('^')) {
        ++pos_;
        alternative.anchored_start = true;
      }
      TGI_ASSIGN_OR_RETURN(alternative.body, parse_sequence(/*top_level=*/true, &alternative.anchored_end));
      alternatives.push_back(std::move(alternative));
      if (at_end()) break;
      if (pattern_[pos_] == ')') return error("unbalanced ')'");
      ++pos_;  // '|'
    }
    return alternatives;
  }

  Result<Regex> check_size(Regex regex) const {
    if (regex.expanded_size() > limits_.max_expanded_size) {
      return Error::make(ErrorKind::kValidation, "regex: pattern too large (expands to more than {} nodes)",
                         limits_.max_expanded_size);
    }
    return regex;
  }

 private:
  bool at_end() const { return pos_ >= pattern_.size(); }
  bool peek_is(char c) const { return pos_ < pattern_.size() && pattern_[pos_] == c; }
  bool peek_is_at(size_t offset, char c) const {
    return pos_ + offset < pattern_.size() && pattern_[pos_ + offset] == c;
  }

  // Offsets in messages count characters, not bytes.
  size_t character_offset(size_t byte_pos) const {
    size_t count = 0;
    for (size_t i = 0; i < byte_pos && i < pattern_.size(); ++i) {
      if ((static_cast<uint8_t>(pattern_[i]) & 0xC0) != 0x80) ++count;
    }
    return count;
  }
  Error error_at(size_t byte_pos, std::string_view problem) const {
    return Error::make(ErrorKind::kValidation, "regex: {} (at {})", problem, character_offset(byte_pos));
  }
  Error error(std::string_view problem) const { return error_at(pos_, problem); }

  // Decodes the UTF-8 character at pos_ and advances past it.
  Result<char32_t> next_character() {
    if (utf8::valid_char_len_at(pattern_, pos_) == 0) return error("invalid UTF-8");
    return utf8::next(pattern_, pos_);
  }

  // A sequence of quantified atoms up to '|', ')' or the end. At the top level a '$' right before
  // '|' or the end anchors the alternative; anywhere else anchors are refused.
  Result<Regex> parse_sequence(bool top_level, bool* anchored_end) {
    std::vector<Regex> items;
    while (!at_end() && !peek_is('|') && !peek_is(')')) {
      size_t atom_start = pos_;
      char c = pattern_[pos_];
      if (c == '$') {
        bool last = pos_ + 1 == pattern_.size() || pattern_[pos_ + 1] == '|';
        if (!top_level || !last) return error("'$' is only supported at the end of the pattern");
        ++pos_;
        *anchored_end = true;
        break;
      }
      if (c == '^') return error("'^' is only supported at the start of the pattern");
      if (c == '*' || c == '+' || c == '?') return error("nothing to repeat");
      if (c == '{' && quantifier_follows()) return error("nothing to repeat");
      TGI_ASSIGN_OR_RETURN(Regex atom, parse_atom());
      TGI_ASSIGN_OR_RETURN(atom, parse_quantifiers(std::move(atom), atom_start));
      items.push_back(std::move(atom));
    }
    return check_size(Regex::concat(std::move(items)));
  }

  Result<Regex> parse_alternation() {
    std::vector<Regex> choices;
    while (true) {
      TGI_ASSIGN_OR_RETURN(Regex choice, parse_sequence(/*top_level=*/false, nullptr));
      choices.push_back(std::move(choice));
      if (!peek_is('|')) break;
      ++pos_;
    }
    return check_size(Regex::alt(std::move(choices)));
  }

  // Whether pos_ ('{') starts {m}, {m,} or {m,n}; otherwise the brace is a literal character, as
  // in ECMAScript (Annex B), Python and PCRE.
  bool quantifier_follows() const {
    size_t i = pos_ + 1;
    size_t digits = 0;
    while (i < pattern_.size() && is_digit(pattern_[i])) ++i, ++digits;
    if (digits == 0) return false;
    if (i < pattern_.size() && pattern_[i] == '}') return true;
    if (i >= pattern_.size() || pattern_[i] != ',') return false;
    ++i;
    while (i < pattern_.size() && is_digit(pattern_[i])) ++i;
    return i < pattern_.size() && pattern_[i] == '}';
  }

  // Reads digits, saturating far above any limit instead of overflowing.
  uint64_t read_number() {
    uint64_t value = 0;
    while (!at_end() && is_digit(pattern_[pos_])) {
      value = std::min<uint64_t>(value * 10 + static_cast<uint64_t>(pattern_[pos_] - '0'), UINT32_MAX + 1ULL);
      ++pos_;
    }
    return value;
  }

  Result<Regex> parse_quantifiers(Regex atom, size_t atom_start) {
    bool quantified = false;
    while (!at_end()) {
      size_t quantifier_start = pos_;
      char c = pattern_[pos_];
      uint64_t min = 0;
      std::optional<uint64_t> max;
      if (c == '*') {
        ++pos_;
      } else if (c == '+') {
        ++pos_;
        min = 1;
      } else if (c == '?') {
        ++pos_;
        max = 1;
      } else if (c == '{' && quantifier_follows()) {
        ++pos_;
        min = read_number();
        if (peek_is(',')) {
          ++pos_;
          if (!peek_is('}')) max = read_number();
        } else {
          max = min;
        }
        ++pos_;  // '}'
        uint64_t largest = max ? *max : min;
        if (largest > limits_.max_repeat) {
          return error_at(quantifier_start, fmt::format("repeat bound {} exceeds the limit of {}", largest,
                                                        limits_.max_repeat));
        }
        if (max && *max < min) return error_at(quantifier_start, "repeat bounds out of order");
      } else if (c == '{' && peek_is_at(1, ',')) {
        return error("'{,n}' is ambiguous between dialects; write {0,n}");
      } else {
        break;
      }
      if (quantified)
        return error_at(quantifier_start, "nothing to repeat (a quantifier follows a quantifier)");
      quantified = true;
      // Lazy and possessive forms accept the same whole strings.
      if (peek_is('?') || peek_is('+')) ++pos_;
      std::optional<uint32_t> bound;
      if (max) bound = static_cast<uint32_t>(*max);
      atom = Regex::repeat(std::move(atom), static_cast<uint32_t>(min), bound);
      if (atom.expanded_size() > limits_.max_expanded_size) {
        return error_at(atom_start, fmt::format("repetition too large (expands to more than {} nodes)",
                                                limits_.max_expanded_size));
      }
    }
    return atom;
  }

  Result<Regex> parse_atom() {
    char c = pattern_[pos_];
    switch (c) {
      case '(':
        return parse_group();
      case '[':
        return parse_class();
      case '.':
        ++pos_;
        return Regex::set(dot_set());
      case '\\':
        return parse_escape_atom();
      default: {
        TGI_ASSIGN_OR_RETURN(char32_t character, next_character());
        return Regex::character(character);
      }
    }
  }

  Result<Regex> parse_group() {
    size_t open = pos_;
    ++pos_;  // '('
    if (peek_is('?')) {
      size_t question = pos_;
      ++pos_;
      if (peek_is(':')) {
        ++pos_;
      } else if (peek_is('=') || peek_is('!')) {
        return error_at(open, "look-ahead is not supported");
      } else if (peek_is('<') && (peek_is_at(1, '=') || peek_is_at(1, '!'))) {
        return error_at(open, "look-behind is not supported");
      } else if (peek_is('<') || (peek_is('P') && peek_is_at(1, '<'))) {
        pos_ += peek_is('P') ? 2 : 1;
        size_t name_start = pos_;
        while (!at_end() &&
               (is_digit(pattern_[pos_]) || is_ascii_letter(pattern_[pos_]) || pattern_[pos_] == '_')) {
          ++pos_;
        }
        if (pos_ == name_start || !peek_is('>')) return error("bad group name");
        ++pos_;
      } else if (peek_is('P') && peek_is_at(1, '=')) {
        return error_at(open, "back-references are not supported");
      } else if (!at_end() && (pattern_[pos_] == '-' || is_ascii_letter(pattern_[pos_]))) {
        return error_at(open, "inline flags are not supported");
      } else {
        return error_at(question, "unsupported group syntax");
      }
    }
    if (++depth_ > limits_.max_nesting) {
      return error_at(open, fmt::format("groups nested deeper than {}", limits_.max_nesting));
    }
    TGI_ASSIGN_OR_RETURN(Regex inner, parse_alternation());
    --depth_;
    if (!peek_is(')')) return error_at(open, "unbalanced '('");
    ++pos_;
    return inner;
  }

  // \d \w \s and their negations, or nullopt for another escape letter.
  static std::optional<CodepointSet> class_escape(char letter) {
    switch (letter) {
      case 'd':
        return digit_set();
      case 'D':
        return digit_set().complement();
      case 'w':
        return word_set();
      case 'W':
        return word_set().complement();
      case 's':
        return space_set();
      case 'S':
        return space_set().complement();
      default:
        return std::nullopt;
    }
  }

  Result<Regex> parse_escape_atom() {
    size_t backslash = pos_;
    if (pos_ + 1 >= pattern_.size()) return error("pattern ends with '\\'");
    char letter = pattern_[pos_ + 1];
    if (auto set = class_escape(letter)) {
      pos_ += 2;
      return Regex::set(std::move(*set));
    }
    switch (letter) {
      case 'b':
      case 'B':
        return error_at(backslash, "word boundaries are not supported");
      case 'A':
      case 'z':
      case 'Z':
      case 'G':
        return error_at(backslash, "anchors are not supported");
      default:
        break;
    }
    TGI_ASSIGN_OR_RETURN(char32_t c, parse_character_escape(/*in_class=*/false));
    return Regex::character(c);
  }

  // Reads exactly `count` hex digits, or up to the closing '}' of a \x{...} / \u{...} form.
  Result<char32_t> read_hex(size_t count, size_t escape_start) {
    uint64_t value = 0;
    if (peek_is('{')) {
      ++pos_;
      size_t digits = 0;
      while (!at_end() && is_hex(pattern_[pos_])) {
        value = std::min<uint64_t>(value * 16 + hex_value(pattern_[pos_]), 0x110000);
        ++pos_, ++digits;
      }
      if (digits == 0 || !peek_is('}')) return error_at(escape_start, "malformed hex escape");
      ++pos_;
    } else {
      for (size_t i = 0; i < count; ++i) {
        if (at_end() || !is_hex(pattern_[pos_])) return error_at(escape_start, "malformed hex escape");
        value = value * 16 + hex_value(pattern_[pos_]);
        ++pos_;
      }
    }
    if (value > CodepointSet::kMaxCodepoint) return error_at(escape_start, "code point above U+10FFFF");
    return static_cast<char32_t>(value);
  }

  // One escape that stands for a single character (pos_ at the backslash).
  Result<char32_t> parse_character_escape(bool in_class) {
    size_t backslash = pos_;
    ++pos_;
    char letter = pattern_[pos_];
    switch (letter) {
      case 'n':
        ++pos_;
        return U'\n';
      case 'r':
        ++pos_;
        return U'\r';
      case 't':
        ++pos_;
        return U'\t';
      case 'f':
        ++pos_;
        return U'\f';
      case 'v':
        ++pos_;
        return U'\v';
      case 'b':
        if (!in_class) break;
        ++pos_;
        return U'\b';
      case 'c': {
        ++pos_;
        if (at_end() || !is_ascii_letter(pattern_[pos_])) {
          return error_at(backslash, "malformed control escape");
        }
        return static_cast<char32_t>(pattern_[pos_++] & 0x1F);
      }
      case 'x': {
        ++pos_;
        TGI_ASSIGN_OR_RETURN(char32_t value, read_hex(2, backslash));
        if (value >= 0xD800 && value <= 0xDFFF) return error_at(backslash, "surrogate code point escape");
        return value;
      }
      case 'u': {
        ++pos_;
        bool braced = peek_is('{');
        TGI_ASSIGN_OR_RETURN(char32_t unit, read_hex(4, backslash));
        // \uD83D\uDE00: a UTF-16 surrogate pair spells one character.
        if (!braced && unit >= 0xD800 && unit <= 0xDBFF && peek_is('\\') && peek_is_at(1, 'u')) {
          size_t second = pos_;
          pos_ += 2;
          TGI_ASSIGN_OR_RETURN(char32_t low, read_hex(4, second));
          if (low < 0xDC00 || low > 0xDFFF) return error_at(backslash, "unpaired surrogate escape");
          return static_cast<char32_t>(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00));
        }
        if (unit >= 0xD800 && unit <= 0xDFFF) return error_at(backslash, "unpaired surrogate escape");
        return unit;
      }
      case '0':
        if (pos_ + 1 < pattern_.size() && is_digit(pattern_[pos_ + 1])) {
          return error_at(backslash, "octal escapes are not supported");
        }
        ++pos_;
        return U'\0';
      case 'k':
        return error_at(backslash, "back-references are not supported");
      case 'p':
      case 'P':
        return error_at(backslash, "Unicode property escapes are not supported");
      default:
        break;
    }
    if (is_digit(letter)) {
      return error_at(backslash,
                      in_class ? "octal escapes are not supported" : "back-references are not supported");
    }
    if (static_cast<uint8_t>(letter) >= 0x80) return next_character();
    if (is_ascii_letter(letter)) return error_at(backslash, fmt::format("unknown escape '\\{}'", letter));
    ++pos_;
    return static_cast<char32_t>(letter);  // escaped punctuation stands for itself
  }

  // One class member that may start or end a range: a character or an escape for one.
  Result<char32_t> parse_class_character() {
    if (peek_is('\\')) {
      if (pos_ + 1 >= pattern_.size()) return error("pattern ends with '\\'");
      return parse_character_escape(/*in_class=*/true);
    }
    if (peek_is('[') && peek_is_at(1, ':')) return error("POSIX character classes are not supported");
    return next_character();
  }

  Result<Regex> parse_class() {
    size_t open = pos_;
    ++pos_;  // '['
    bool negated = false;
    if (peek_is('^')) {
      ++pos_;
      negated = true;
    }
    // ECMAScript reads "[]" as the empty class and "[^]" as any character; Python and PCRE read
    // ']' there as a literal. Refused rather than guessed.
    if (peek_is(']')) return error("a class starting with ']' is ambiguous between dialects");
    CodepointSet members;
    while (true) {
      if (at_end()) return error_at(open, "unterminated character class");
      if (peek_is(']')) break;
      size_t item_start = pos_;
      if (peek_is('\\') && pos_ + 1 < pattern_.size()) {
        if (auto set = class_escape(pattern_[pos_ + 1])) {
          pos_ += 2;
          if (peek_is('-') && pos_ + 1 < pattern_.size() && pattern_[pos_ + 1] != ']') {
            return error_at(item_start, "a class escape cannot bound a range");
          }
          members.add(*set);
          continue;
        }
        if (pattern_[pos_ + 1] == 'B') return error_at(item_start, "word boundaries are not supported");
      }
      TGI_ASSIGN_OR_RETURN(char32_t first, parse_class_character());
      char32_t last = first;
      // '-' before ']' is a literal.
      if (peek_is('-') && pos_ + 1 < pattern_.size() && pattern_[pos_ + 1] != ']') {
        ++pos_;
        if (peek_is('\\') && pos_ + 1 < pattern_.size() && class_escape(pattern_[pos_ + 1])) {
          return error_at(item_start, "a class escape cannot bound a range");
        }
        TGI_ASSIGN_OR_RETURN(last, parse_class_character());
        if (last < first) return error_at(item_start, "bad character range (end before start)");
      }
      members.add(first, last);
    }
    ++pos_;  // ']'
    if (negated) members = members.complement();
    return Regex::set(std::move(members));
  }

  std::string_view pattern_;
  const RegexParseLimits& limits_;
  size_t pos_ = 0;
  uint32_t depth_ = 0;
};

}  // namespace

Result<Regex> parse_regex(std::string_view pattern, const RegexParseLimits& limits) {
  RegexParser parser(pattern, limits);
  TGI_ASSIGN_OR_RETURN(std::vector<TopAlternative> alternatives, parser.parse_top());
  std::vector<Regex> bodies;
  bodies.reserve(alternatives.size());
  for (TopAlternative& alternative : alternatives) bodies.push_back(std::move(alternative.body));
  return parser.check_size(Regex::alt(std::move(bodies)));
}

Result<Regex> parse_search_pattern(std::string_view pattern, const RegexParseLimits& limits) {
  RegexParser parser(pattern, limits);
  TGI_ASSIGN_OR_RETURN(std::vector<TopAlternative> alternatives, parser.parse_top());
  // Unanchored sides may be padded with anything at all, line terminators included.
  Regex anything = Regex::star(Regex::any_character());
  std::vector<Regex> choices;
  choices.reserve(alternatives.size());
  for (TopAlternative& alternative : alternatives) {
    std::vector<Regex> parts;
    if (!alternative.anchored_start) parts.push_back(anything);
    parts.push_back(std::move(alternative.body));
    if (!alternative.anchored_end) parts.push_back(anything);
    choices.push_back(Regex::concat(std::move(parts)));
  }
  return parser.check_size(Regex::alt(std::move(choices)));
}

}  // namespace tgi::grammar
