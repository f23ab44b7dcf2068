#include "tokenizer/vocab.h"

namespace tgi::tokenizer {

Result<void> Vocab::add(std::string token, int64_t id) {
  if (id < 0 || id > kMaxId)
    return Error::make(ErrorKind::kInvalidArgument, "token id {} out of range (0..{})", id, kMaxId);
  const auto uid = static_cast<size_t>(id);
  if (uid >= to_token_.size()) {
    to_token_.resize(uid + 1);
    present_.resize(uid + 1, false);
  }
  // Like a Rust HashMap built from the JSON object, a repeated key keeps its last id.
  auto [it, inserted] = to_id_.try_emplace(token, static_cast<int32_t>(id));
  if (!inserted) it->second = static_cast<int32_t>(id);
  to_token_[uid] = std::move(token);
  present_[uid] = true;
  return {};
}

}  // namespace tgi::tokenizer
