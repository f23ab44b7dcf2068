#include "engine/block_pool.h"

#include <algorithm>
#include <stdexcept>

namespace tgi::engine {

BlockPool::BlockPool(int32_t num_blocks, int32_t block_size, bool prefix_caching)
    : block_size_(block_size), prefix_caching_(prefix_caching), blocks_(num_blocks) {
  free_.reserve(num_blocks);
  for (int32_t b = num_blocks - 1; b >= 0; --b) free_.push_back(b);
}

std::optional<int32_t> BlockPool::allocate() {
  int32_t block;
  if (!free_.empty()) {
    block = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    block = lru_.front();
    lru_.pop_front();
    unindex(block);
  } else {
    return std::nullopt;
  }
  blocks_[block].refcount = 1;
  return block;
}

void BlockPool::retain(int32_t block) {
  BlockState& state = blocks_[block];
  if (state.refcount == 0) {
    // Only a cached block can be revived; a free one is not owned by anyone.
    if (!state.indexed) throw std::logic_error("retain of a free block");
    lru_.erase(state.lru_pos);
  }
  ++state.refcount;
}

void BlockPool::release(int32_t block) {
  BlockState& state = blocks_[block];
  if (state.refcount <= 0) throw std::logic_error("release of an unreferenced block");
  if (--state.refcount > 0) return;
  if (state.indexed) {
    state.lru_pos = lru_.insert(lru_.end(), block);
  } else {
    free_.push_back(block);
  }
}

void BlockPool::release_all(std::span<const int32_t> blocks) {
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) release(*it);
}

uint64_t BlockPool::chain_hash(uint64_t parent_hash, std::span<const int32_t> tokens) {
  // FNV-1a over the parent hash and token ids, finished with a 64-bit mixer (splitmix64).
  uint64_t h = 1469598103934665603ull ^ parent_hash;
  h *= 1099511628211ull;
  for (int32_t t : tokens) {
    h ^= static_cast<uint32_t>(t);
    h *= 1099511628211ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::optional<int32_t> BlockPool::acquire_cached(uint64_t hash, uint64_t parent_hash,
                                                 std::span<const int32_t> tokens) {
  if (!prefix_caching_) return std::nullopt;
  auto it = index_.find(hash);
  if (it == index_.end()) return std::nullopt;
  const BlockState& state = blocks_[it->second];
  if (state.parent_hash != parent_hash ||
      !std::equal(tokens.begin(), tokens.end(), state.tokens.begin(), state.tokens.end()))
    return std::nullopt;
  int32_t block = it->second;
  retain(block);
  return block;
}

void BlockPool::publish(int32_t block, uint64_t hash, uint64_t parent_hash,
                        std::span<const int32_t> tokens) {
  if (!prefix_caching_) return;
  BlockState& state = blocks_[block];
  if (state.indexed || index_.count(hash)) return;
  state.indexed = true;
  state.hash = hash;
  state.parent_hash = parent_hash;
  state.tokens.assign(tokens.begin(), tokens.end());
  index_.emplace(hash, block);
}

void BlockPool::unindex(int32_t block) {
  BlockState& state = blocks_[block];
  if (!state.indexed) return;
  index_.erase(state.hash);
  state.indexed = false;
  state.tokens.clear();
}

}  // namespace tgi::engine
