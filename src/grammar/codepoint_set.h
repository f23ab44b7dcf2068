#pragma once
// A set of Unicode scalar values (U+0000..U+10FFFF, surrogates never included), kept as sorted,
// disjoint, non-adjacent inclusive ranges. The leaves of every Regex are CodepointSets: grammars
// speak characters, and only the DFA builder turns them into UTF-8 bytes, so no constraint can
// ever admit an invalid UTF-8 sequence.
#include <cstdint>
#include <string>
#include <vector>

namespace tgi::grammar {

struct CodepointRange {
  char32_t first = 0;
  char32_t last = 0;  // inclusive
  bool operator==(const CodepointRange&) const = default;
};

class CodepointSet {
 public:
  static constexpr char32_t kMaxCodepoint = 0x10FFFF;

  CodepointSet() = default;
  static CodepointSet of(char32_t c);
  static CodepointSet range(char32_t first, char32_t last);  // surrogates are dropped
  static CodepointSet any();                                 // every scalar value

  void add(char32_t c) { add(c, c); }
  void add(char32_t first, char32_t last);
  void add(const CodepointSet& other);
  CodepointSet complement() const;  // within the scalar values
  CodepointSet intersect(const CodepointSet& other) const;
  CodepointSet minus(const CodepointSet& other) const;

  bool contains(char32_t c) const;
  bool empty() const { return ranges_.empty(); }
  uint64_t size() const;  // number of scalar values
  const std::vector<CodepointRange>& ranges() const { return ranges_; }
  bool operator==(const CodepointSet&) const = default;
  std::string to_string() const;  // "[a-z\x{e9}]", for messages and tests

 private:
  std::vector<CodepointRange> ranges_;
};

}  // namespace tgi::grammar
