#pragma once
// The KV block pool: reference-counted block ids plus the prefix cache over them.
//
// A block is in exactly one of three states: referenced (refcount > 0, owned by sequences),
// cached (refcount 0 but indexed by its content hash, kept for reuse and evictable in LRU order)
// or free. Full blocks are indexed by a hash chained over all tokens from the sequence start, so
// a hit on block i implies the whole prefix up to block i matches. Index entries keep the block's
// tokens and parent hash, so a 64-bit hash collision can never hand out a wrong block.
#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace tgi::engine {

class BlockPool {
 public:
  BlockPool(int32_t num_blocks, int32_t block_size, bool prefix_caching);

  int32_t num_blocks() const { return static_cast<int32_t>(blocks_.size()); }
  int32_t block_size() const { return block_size_; }
  bool prefix_caching() const { return prefix_caching_; }

  // Blocks an allocate() can hand out now: free plus cached-but-unreferenced (evictable).
  int32_t num_available() const { return static_cast<int32_t>(free_.size() + lru_.size()); }
  int32_t num_referenced() const { return num_blocks() - num_available(); }
  int32_t num_cached_unreferenced() const { return static_cast<int32_t>(lru_.size()); }

  // A block with refcount 1: a free one, else the least recently used cached one (evicted from
  // the index). None when every block is referenced.
  std::optional<int32_t> allocate();
  void retain(int32_t block);
  // Drops one reference; at zero the block becomes cached (if indexed) or free.
  void release(int32_t block);
  // Releases a whole block table, last block first, so a sequence's tail is evicted before its
  // head (a head block is useful to more future prompts).
  void release_all(std::span<const int32_t> blocks);

  // Hash of a full block given its parent's chain hash (0 for the first block).
  static uint64_t chain_hash(uint64_t parent_hash, std::span<const int32_t> tokens);

  // Looks up a full block by content; on a hit retains it (refcount +1, leaves the LRU) and
  // returns its id.
  std::optional<int32_t> acquire_cached(uint64_t hash, uint64_t parent_hash,
                                        std::span<const int32_t> tokens);
  // Indexes a referenced, fully computed block under `hash`. When an equal block is already
  // indexed this block stays unindexed (and is freed, not cached, on its last release).
  void publish(int32_t block, uint64_t hash, uint64_t parent_hash, std::span<const int32_t> tokens);

  int32_t refcount(int32_t block) const { return blocks_[block].refcount; }
  bool is_indexed(int32_t block) const { return blocks_[block].indexed; }

 private:
  struct BlockState {
    int32_t refcount = 0;
    bool indexed = false;
    uint64_t hash = 0;
    uint64_t parent_hash = 0;
    std::vector<int32_t> tokens;           // content, for exact verification of hits
    std::list<int32_t>::iterator lru_pos;  // valid while cached and unreferenced
  };
  void unindex(int32_t block);

  int32_t block_size_;
  bool prefix_caching_;
  std::vector<BlockState> blocks_;
  std::vector<int32_t> free_;  // stack; lowest ids handed out first
  std::list<int32_t> lru_;     // cached, unreferenced; front = least recently used
  std::unordered_map<uint64_t, int32_t> index_;
};

}  // namespace tgi::engine
