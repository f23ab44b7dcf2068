#pragma once
// token <-> id tables shared by the vocabulary models.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace tgi::tokenizer {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class Vocab {
 public:
  // Ids above this are rejected: a hostile file must not make us allocate gigabytes.
  static constexpr int64_t kMaxId = (int64_t{1} << 26) - 1;

  Result<void> add(std::string token, int64_t id);
  std::optional<int32_t> find(std::string_view token) const {
    auto it = to_id_.find(token);
    if (it == to_id_.end()) return std::nullopt;
    return it->second;
  }
  const std::string* token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= to_token_.size() || !present_[static_cast<size_t>(id)]) return nullptr;
    return &to_token_[static_cast<size_t>(id)];
  }
  size_t size() const { return to_id_.size(); }
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [token, id] : to_id_) fn(token, id);
  }
  void reserve(size_t n) {
    to_id_.reserve(n);
    to_token_.reserve(n);
    present_.reserve(n);
  }

 private:
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> to_id_;
  std::vector<std::string> to_token_;
  std::vector<bool> present_;
};

}  // namespace tgi::tokenizer
