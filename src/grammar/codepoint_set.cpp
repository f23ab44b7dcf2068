#include "grammar/codepoint_set.h"

#include <algorithm>

#include <fmt/format.h>

namespace tgi::grammar {

namespace {

constexpr char32_t kSurrogateFirst = 0xD800;
constexpr char32_t kSurrogateLast = 0xDFFF;

// Inserts [first, last] (already free of surrogates) and merges what it overlaps or touches.
void insert_range(std::vector<CodepointRange>& ranges, char32_t first, char32_t last) {
  auto it = std::lower_bound(ranges.begin(), ranges.end(), first,
                             [](const CodepointRange& r, char32_t c) { return r.last + 1 < c; });
  // `it` is the first range that ends at or after first - 1: the first one we may merge with.
  auto end = it;
  while (end != ranges.end() && end->first <= last + 1) {
    first = std::min(first, end->first);
    last = std::max(last, end->last);
    ++end;
  }
  if (it == end) {
    ranges.insert(it, CodepointRange{first, last});
    return;
  }
  *it = CodepointRange{first, last};
  ranges.erase(it + 1, end);
}

void append_codepoint(std::string& out, char32_t c) {
  bool plain = c >= 0x20 && c < 0x7F && c != '\\' && c != ']' && c != '[' && c != '-' && c != '^';
  if (plain) {
    out += static_cast<char>(c);
  } else {
    out += fmt::format("\\x{{{:x}}}", static_cast<uint32_t>(c));
  }
}

}  // namespace

CodepointSet CodepointSet::of(char32_t c) {
  return range(c, c);
}

CodepointSet CodepointSet::range(char32_t first, char32_t last) {
  CodepointSet set;
  set.add(first, last);
  return set;
}

CodepointSet CodepointSet::any() {
  return range(0, kMaxCodepoint);
}

void CodepointSet::add(char32_t first, char32_t last) {
  last = std::min(last, kMaxCodepoint);
  if (first > last) return;
  // Surrogates are not scalar values: cut them out, so they can never reach the UTF-8 encoder.
  if (first < kSurrogateFirst && last >= kSurrogateFirst) {
    insert_range(ranges_, first, kSurrogateFirst - 1);
    first = kSurrogateLast + 1;
  } else if (first >= kSurrogateFirst && first <= kSurrogateLast) {
    first = kSurrogateLast + 1;
  }
  if (first > last) return;
  insert_range(ranges_, first, last);
}

void CodepointSet::add(const CodepointSet& other) {
  if (ranges_.empty()) {
    ranges_ = other.ranges_;
    return;
  }
  for (const CodepointRange& r : other.ranges_) insert_range(ranges_, r.first, r.last);
}

CodepointSet CodepointSet::complement() const {
  CodepointSet result;
  char32_t next = 0;
  for (const CodepointRange& r : ranges_) {
    if (r.first > next) result.add(next, r.first - 1);
    next = r.last + 1;
  }
  if (next <= kMaxCodepoint) result.add(next, kMaxCodepoint);
  return result;
}

CodepointSet CodepointSet::intersect(const CodepointSet& other) const {
  CodepointSet result;
  size_t i = 0;
  size_t j = 0;
  while (i < ranges_.size() && j < other.ranges_.size()) {
    const CodepointRange& a = ranges_[i];
    const CodepointRange& b = other.ranges_[j];
    char32_t first = std::max(a.first, b.first);
    char32_t last = std::min(a.last, b.last);
    // Both inputs are canonical, so the pieces come out sorted and never touch: append directly.
    if (first <= last) result.ranges_.push_back(CodepointRange{first, last});
    if (a.last < b.last) {
      ++i;
    } else {
      ++j;
    }
  }
  return result;
}

CodepointSet CodepointSet::minus(const CodepointSet& other) const {
  return intersect(other.complement());
}

bool CodepointSet::contains(char32_t c) const {
  auto it = std::lower_bound(ranges_.begin(), ranges_.end(), c,
                             [](const CodepointRange& r, char32_t value) { return r.last < value; });
  return it != ranges_.end() && it->first <= c;
}

uint64_t CodepointSet::size() const {
  uint64_t total = 0;
  for (const CodepointRange& r : ranges_) total += static_cast<uint64_t>(r.last - r.first) + 1;
  return total;
}

std::string CodepointSet::to_string() const {
  std::string out = "[";
  for (const CodepointRange& r : ranges_) {
    append_codepoint(out, r.first);
    if (r.last != r.first) {
      if (r.last != r.first + 1) out += '-';
      append_codepoint(out, r.last);
    }
  }
  out += ']';
  return out;
}

}  // namespace tgi::grammar
