#include "engine/kv_budget.h"

#include <algorithm>

namespace tgi::engine {

Result<int64_t> default_kv_tokens(int64_t context_tokens, int64_t sequences, double memory_fraction,
                                  size_t available_bytes, size_t kv_bytes_per_token, int32_t block_size) {
  if (block_size <= 0)
    return Error::make(ErrorKind::kInvalidArgument, "block size must be positive, got {}", block_size);
  if (memory_fraction <= 0 || memory_fraction > 1)
    return Error::make(ErrorKind::kInvalidArgument, "KV cache memory fraction must be in (0, 1], got {}",
                       memory_fraction);
  int64_t tokens =
      std::min(std::max<int64_t>(context_tokens, 1) * std::max<int64_t>(sequences, 1), kMaxAutoKvTokens);
  if (kv_bytes_per_token > 0) {
    const double bytes = static_cast<double>(available_bytes) * memory_fraction;
    tokens = std::min(tokens, static_cast<int64_t>(bytes / static_cast<double>(kv_bytes_per_token)));
  }
  tokens = tokens / block_size * block_size;
  if (tokens < block_size)
    return Error::make(ErrorKind::kOverloaded,
                       "not enough memory for one KV block: {} bytes available, {} bytes per token",
                       available_bytes, kv_bytes_per_token);
  return tokens;
}

Result<int32_t> kv_cache_blocks(int32_t requested_tokens, double memory_fraction, size_t available_bytes,
                                size_t kv_bytes_per_token, int32_t block_size) {
  if (block_size <= 0) return Error::make(ErrorKind::kInvalidArgument, "block size must be positive, got {}", block_size);
  if (requested_tokens > 0) return (requested_tokens + block_size - 1) / block_size;
  if (memory_fraction <= 0 || memory_fraction > 1)
    return Error::make(ErrorKind::kInvalidArgument, "KV cache memory fraction must be in (0, 1], got {}", memory_fraction);
  if (kv_bytes_per_token == 0) return static_cast<int32_t>(kMaxAutoKvTokens / block_size);
  const double bytes = static_cast<double>(available_bytes) * memory_fraction;
  const auto tokens = std::min<int64_t>(static_cast<int64_t>(bytes / static_cast<double>(kv_bytes_per_token)),
                                        kMaxAutoKvTokens);
  const auto blocks = static_cast<int32_t>(tokens / block_size);
  if (blocks < 1)
    return Error::make(ErrorKind::kOverloaded,
                       "not enough memory for one KV block: {} bytes available, {} bytes per token",
                       available_bytes, kv_bytes_per_token);
  return blocks;
}

}  // namespace tgi::engine
