#include "tokenizer/precompiled_charsmap.h"

#include "tokenizer/utf8.h"

namespace tgi::tokenizer {

namespace {
// darts-clone unit layout.
bool has_leaf(uint32_t unit) { return (unit >> 8) & 1; }
uint32_t value(uint32_t unit) { return unit & ((1u << 31) - 1); }
uint32_t label(uint32_t unit) { return unit & ((1u << 31) | 0xFF); }
uint32_t offset(uint32_t unit) { return (unit >> 10) << ((unit & (1u << 9)) >> 6); }

uint32_t read_u32(const std::vector<uint8_t>& blob, size_t at) {
  return uint32_t{blob[at]} | uint32_t{blob[at + 1]} << 8 | uint32_t{blob[at + 2]} << 16 | uint32_t{blob[at + 3]} << 24;
}
}  // namespace

Result<PrecompiledCharsmap> PrecompiledCharsmap::parse(const std::vector<uint8_t>& blob) {
  if (blob.size() < 4) return Error::make(ErrorKind::kInvalidArgument, "precompiled_charsmap is shorter than its header");
  const uint32_t trie_bytes = read_u32(blob, 0);
  const size_t unit_count = trie_bytes / 4;
  if (unit_count == 0) return Error::make(ErrorKind::kInvalidArgument, "precompiled_charsmap has an empty trie");
  if (unit_count > (blob.size() - 4) / 4) {
    return Error::make(ErrorKind::kInvalidArgument, "precompiled_charsmap trie of {} bytes exceeds the {}-byte blob",
                       trie_bytes, blob.size());
  }
  PrecompiledCharsmap map;
  map.units_.resize(unit_count);
  for (size_t i = 0; i < unit_count; ++i) map.units_[i] = read_u32(blob, 4 + 4 * i);
  map.pool_.assign(blob.begin() + static_cast<std::ptrdiff_t>(4 + 4 * unit_count), blob.end());
  if (!utf8::is_valid(map.pool_)) {
    return Error::make(ErrorKind::kInvalidArgument, "precompiled_charsmap replacement strings are not UTF-8");
  }
  return map;
}

Result<std::optional<std::string_view>> PrecompiledCharsmap::transform(std::string_view chunk) const {
  auto out_of_range = [] {
    return Error::make(ErrorKind::kInvalidArgument, "precompiled_charsmap trie points outside itself");
  };
  size_t node = offset(units_[0]);
  for (char ch : chunk) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) break;
    node ^= c;
    if (node >= units_.size()) return out_of_range();
    const uint32_t unit = units_[node];
    if (label(unit) != c) return std::optional<std::string_view>();
    node ^= offset(unit);
    if (node >= units_.size()) return out_of_range();
    if (!has_leaf(unit)) continue;
    const size_t begin = value(units_[node]);
    if (begin > pool_.size() || (begin < pool_.size() && (static_cast<unsigned char>(pool_[begin]) & 0xC0) == 0x80)) {
      return Error::make(ErrorKind::kInvalidArgument, "precompiled_charsmap value {} is not a string of its pool", begin);
    }
    size_t end = pool_.find('\0', begin);
    if (end == std::string::npos) end = pool_.size();
    return std::optional<std::string_view>(std::string_view(pool_).substr(begin, end - begin));
  }
  return std::optional<std::string_view>();
}

}  // namespace tgi::tokenizer
