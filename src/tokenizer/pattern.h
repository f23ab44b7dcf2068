#pragma once
// What Split, Replace and friends search for: a literal string, an Oniguruma-style regex (run by
// PCRE2 in UTF+UCP mode) or a character predicate. find_matches returns the whole input cut into
// consecutive (range, is_match) pieces, as tokenizers' Pattern trait does.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace tgi::tokenizer {

struct PatternPiece {
  size_t begin = 0;
  size_t end = 0;
  bool is_match = false;
};

class CompiledRegex;

class Pattern {
 public:
  static Pattern literal(std::string text);
  static Result<Pattern> regex(const std::string& expression);
  static Pattern predicate(std::function<bool(char32_t)> matches);

  Result<std::vector<PatternPiece>> find_matches(std::string_view inside) const;
  // Appends (begin, end) of each non-overlapping leftmost match; empty matches included.
  Result<void> for_each_match(std::string_view inside, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  enum class Kind { kLiteral, kRegex, kPredicate };
  Kind kind_ = Kind::kLiteral;
  std::string literal_;
  std::shared_ptr<const CompiledRegex> regex_;
  std::function<bool(char32_t)> predicate_;
};

std::vector<PatternPiece> invert(std::vector<PatternPiece> pieces);

}  // namespace tgi::tokenizer
