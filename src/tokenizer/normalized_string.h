#pragma once
// A piece of input text as it is being normalized, with the alignment of every normalized byte
// to the byte range of the original input it came from (absolute offsets into the full input).
// The editing operations reproduce tokenizers' NormalizedString alignment rules exactly, because
// the offsets the reference reports are defined by them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "tokenizer/pattern.h"

namespace tgi::tokenizer {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// (character, change): 0 replaces one current character, +1 inserts, -n replaces one and removes n more.
using CharChanges = std::vector<std::pair<char32_t, int>>;

class NormalizedString {
 public:
  using Alignment = std::pair<uint32_t, uint32_t>;

  NormalizedString() = default;
  // `text` is the part of the input that starts at byte `shift` of the full input.
  NormalizedString(std::string_view text, size_t shift);

  const std::string& get() const { return normalized_; }
  bool empty() const { return normalized_.empty(); }
  size_t original_begin() const { return original_begin_; }
  size_t original_end() const { return original_end_; }
  const std::vector<Alignment>& alignments() const { return alignments_; }

  // Range of the original input covered by normalized bytes [begin, end) (absolute offsets).
  std::pair<size_t, size_t> original_range(size_t begin, size_t end) const;

  void transform_range(size_t begin, size_t end, const CharChanges& dest, size_t initial_offset);
  void transform(const CharChanges& dest, size_t initial_offset) {
    transform_range(0, normalized_.size(), dest, initial_offset);
  }
  void prepend(std::string_view s);
  void append(std::string_view s);
  Result<void> replace(const Pattern& pattern, std::string_view content);
  void lowercase();
  Result<void> normalize_unicode(int form);  // unicode::NormalizationForm as int
  void strip(bool left, bool right);
  template <typename Keep>
  void filter(Keep keep);
  NormalizedString slice(size_t begin, size_t end) const;
  Result<std::vector<NormalizedString>> split(const Pattern& pattern, SplitBehavior behavior, bool invert = false) const;
  std::vector<NormalizedString> split_pieces(std::vector<PatternPiece> pieces, SplitBehavior behavior) const;

 private:
  std::string normalized_;
  std::vector<Alignment> alignments_;
  size_t original_begin_ = 0;
  size_t original_end_ = 0;
};

}  // namespace tgi::tokenizer

#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

template <typename Keep>
void NormalizedString::filter(Keep keep) {
  int removed = 0;
  size_t removed_start = 0;
  CharChanges changes;
  changes.reserve(normalized_.size());
  bool have_last = false;
  char32_t last = 0;
  for (size_t i = 0; i < normalized_.size();) {
    const char32_t c = utf8::next(normalized_, i);
    if (keep(c)) {
      if (have_last) changes.emplace_back(last, -removed);
      else removed_start = static_cast<size_t>(removed);
      have_last = true;
      last = c;
      removed = 0;
    } else {
      ++removed;
    }
  }
  if (have_last) changes.emplace_back(last, -removed);
  transform(changes, have_last ? removed_start : static_cast<size_t>(removed));
}

}  // namespace tgi::tokenizer
