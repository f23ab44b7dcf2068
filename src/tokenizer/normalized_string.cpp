#include "tokenizer/normalized_string.h"

#include <algorithm>

#include "tokenizer/unicode_props.h"

namespace tgi::tokenizer {

NormalizedString::NormalizedString(std::string_view text, size_t shift)
    : normalized_(text), original_begin_(shift), original_end_(shift + text.size()) {
  alignments_.resize(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8::char_len(static_cast<unsigned char>(text[i]));
    const Alignment a{static_cast<uint32_t>(shift + i), static_cast<uint32_t>(shift + i + n)};
    for (size_t k = 0; k < n && i + k < text.size(); ++k) alignments_[i + k] = a;
    i += n;
  }
}

std::pair<size_t, size_t> NormalizedString::original_range(size_t begin, size_t end) const {
  if (begin == end || begin > end || end > alignments_.size()) return {begin, end};
  return {alignments_[begin].first, alignments_[end - 1].second};
}

void NormalizedString::transform_range(size_t begin, size_t end, const CharChanges& dest, size_t initial_offset) {
  // Characters being replaced, consumed as `dest` says.
  size_t cursor = begin;  // byte position in normalized_ of the next replaced character
  for (size_t k = 0; k < initial_offset && cursor < end; ++k)
    cursor += utf8::char_len(static_cast<unsigned char>(normalized_[cursor]));
  size_t offset = cursor;
  std::string out;
  out.reserve(end - begin + dest.size());
  std::vector<Alignment> out_align;
  out_align.reserve(end - begin + dest.size());
  const Alignment start_align{static_cast<uint32_t>(original_begin_), static_cast<uint32_t>(original_begin_)};
  for (const auto& [c, change] : dest) {
    Alignment align;
    if (change > 0) {
      align = offset < 1 ? start_align : alignments_[std::min(offset, alignments_.size()) - 1];
    } else {
      align = offset < alignments_.size() ? alignments_[offset] : (alignments_.empty() ? start_align : alignments_.back());
    }
    if (change <= 0 && cursor < end) {
      const size_t n = utf8::char_len(static_cast<unsigned char>(normalized_[cursor]));
      cursor += n;
      offset += n;
    }
    if (change < 0) {
      for (int k = 0; k < -change && cursor < end; ++k) {
        const size_t n = utf8::char_len(static_cast<unsigned char>(normalized_[cursor]));
        cursor += n;
        offset += n;
      }
    }
    const size_t before = out.size();
    utf8::append(out, c);
    out_align.insert(out_align.end(), out.size() - before, align);
  }
  normalized_.replace(begin, end - begin, out);
  alignments_.erase(alignments_.begin() + static_cast<std::ptrdiff_t>(begin),
                    alignments_.begin() + static_cast<std::ptrdiff_t>(end));
  alignments_.insert(alignments_.begin() + static_cast<std::ptrdiff_t>(begin), out_align.begin(), out_align.end());
}

void NormalizedString::prepend(std::string_view s) {
  if (normalized_.empty()) return;
  size_t i = 0;
  const char32_t next = utf8::next(normalized_, i);
  CharChanges changes;
  bool first = true;
  for (size_t j = 0; j < s.size();) {
    changes.emplace_back(utf8::next(s, j), first ? 0 : 1);
    first = false;
  }
  changes.emplace_back(next, 1);
  transform_range(0, i, changes, 0);
}

void NormalizedString::append(std::string_view s) {
  CharChanges changes;
  if (normalized_.empty()) {
    for (size_t j = 0; j < s.size();) changes.emplace_back(utf8::next(s, j), 1);
    transform_range(0, 0, changes, 0);
    return;
  }
  size_t last = normalized_.size() - 1;
  while (last > 0 && (static_cast<unsigned char>(normalized_[last]) & 0xC0) == 0x80) --last;
  size_t i = last;
  changes.emplace_back(utf8::next(normalized_, i), 0);
  for (size_t j = 0; j < s.size();) changes.emplace_back(utf8::next(s, j), 1);
  transform_range(last, normalized_.size(), changes, 0);
}

Result<void> NormalizedString::replace(const Pattern& pattern, std::string_view content) {
  std::vector<std::pair<size_t, size_t>> matches;
  TGI_TRY(pattern.for_each_match(normalized_, matches));
  if (matches.empty()) return {};
  std::string out;
  std::vector<Alignment> out_align;
  out.reserve(normalized_.size());
  out_align.reserve(alignments_.size());
  const Alignment start_align{static_cast<uint32_t>(original_begin_), static_cast<uint32_t>(original_begin_)};
  size_t last_end = 0;
  for (auto [b, e] : matches) {
    if (b < last_end) continue;
    out.append(normalized_, last_end, b - last_end);
    out_align.insert(out_align.end(), alignments_.begin() + static_cast<std::ptrdiff_t>(last_end),
                     alignments_.begin() + static_cast<std::ptrdiff_t>(b));
    // Every content character is an insertion after the removed match: it takes the alignment of
    // the match's last byte (tokenizers' transform_range with initial_offset = match length).
    const Alignment align = e < 1 ? start_align : alignments_[e - 1];
    const size_t before = out.size();
    out.append(content);
    out_align.insert(out_align.end(), out.size() - before, align);
    last_end = e;
  }
  out.append(normalized_, last_end, std::string::npos);
  out_align.insert(out_align.end(), alignments_.begin() + static_cast<std::ptrdiff_t>(last_end), alignments_.end());
  normalized_ = std::move(out);
  alignments_ = std::move(out_align);
  return {};
}

void NormalizedString::lowercase() {
  CharChanges changes;
  changes.reserve(normalized_.size());
  std::vector<char32_t> lower;
  for (size_t i = 0; i < normalized_.size();) {
    const char32_t c = utf8::next(normalized_, i);
    lower.clear();
    unicode::append_lowercase(c, lower);
    for (size_t k = 0; k < lower.size(); ++k) changes.emplace_back(lower[k], k > 0 ? 1 : 0);
  }
  transform(changes, 0);
}

Result<void> NormalizedString::normalize_unicode(int form) {
  const auto f = static_cast<unicode::NormalizationForm>(form);
  TGI_ASSIGN_OR_RETURN(CharChanges changes, unicode::normalize_with_changes(normalized_, f));
  transform(changes, 0);
  return {};
}

void NormalizedString::strip(bool left, bool right) {
  std::vector<char32_t> chars;
  for (size_t i = 0; i < normalized_.size();) chars.push_back(utf8::next(normalized_, i));
  size_t leading = 0, trailing = 0;
  if (left)
    while (leading < chars.size() && unicode::is_whitespace(chars[leading])) ++leading;
  if (right)
    while (trailing < chars.size() - leading && unicode::is_whitespace(chars[chars.size() - 1 - trailing])) ++trailing;
  if (leading == 0 && trailing == 0) return;
  CharChanges changes;
  const size_t count = chars.size();
  for (size_t i = leading; i + trailing < count; ++i) {
    // tokenizers compares the char index with the byte length here; we keep its quirk.
    const int change = (i == normalized_.size() - trailing - 1) ? -static_cast<int>(trailing) : 0;
    changes.emplace_back(chars[i], change);
  }
  transform(changes, leading);
}

NormalizedString NormalizedString::slice(size_t begin, size_t end) const {
  NormalizedString s;
  s.normalized_ = normalized_.substr(begin, end - begin);
  s.alignments_.assign(alignments_.begin() + static_cast<std::ptrdiff_t>(begin),
                       alignments_.begin() + static_cast<std::ptrdiff_t>(end));
  if (begin < end) {
    s.original_begin_ = alignments_[begin].first;
    s.original_end_ = alignments_[end - 1].second;
  } else {
    s.original_begin_ = s.original_end_ = original_begin_;
  }
  return s;
}

std::vector<NormalizedString> NormalizedString::split_pieces(std::vector<PatternPiece> pieces,
                                                             SplitBehavior behavior) const {
  std::vector<PatternPiece> merged;
  merged.reserve(pieces.size());
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (auto& p : pieces) merged.push_back({p.begin, p.end, false});
      break;
    case SplitBehavior::kRemoved:
      merged = std::move(pieces);
      break;
    case SplitBehavior::kContiguous: {
      bool previous = false;
      for (auto& p : pieces) {
        if (p.is_match == previous && !merged.empty()) merged.back().end = p.end;
        else merged.push_back({p.begin, p.end, false});
        previous = p.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool previous = false;
      for (auto& p : pieces) {
        if (p.is_match && !previous && !merged.empty()) merged.back().end = p.end;
        else merged.push_back({p.begin, p.end, false});
        previous = p.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool previous = false;
      for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
        if (it->is_match && !previous && !merged.empty()) merged.back().begin = it->begin;
        else merged.push_back({it->begin, it->end, false});
        previous = it->is_match;
      }
      std::reverse(merged.begin(), merged.end());
      break;
    }
  }
  std::vector<NormalizedString> out;
  out.reserve(merged.size());
  for (const auto& p : merged) {
    if (!p.is_match) out.push_back(slice(p.begin, p.end));
  }
  return out;
}

Result<std::vector<NormalizedString>> NormalizedString::split(const Pattern& pattern, SplitBehavior behavior,
                                                              bool inverted) const {
  TGI_ASSIGN_OR_RETURN(auto pieces, pattern.find_matches(normalized_));
  if (inverted) pieces = invert(std::move(pieces));
  return split_pieces(std::move(pieces), behavior);
}

}  // namespace tgi::tokenizer
