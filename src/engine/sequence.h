#pragma once
// One sequence's KV bookkeeping: its tokens, how many of them are in the KV cache, and the block
// table that holds them. Sampling and streaming state lives elsewhere (the engine's per-request
// state); the scheduler needs only this.
#include <cstdint>
#include <vector>

namespace tgi::engine {

struct Sequence {
  int64_t id = 0;                 // arrival order; lower is older (preemption takes the newest)
  std::vector<int32_t> tokens;    // prompt followed by generated tokens
  int32_t prompt_len = 0;
  int32_t num_computed = 0;       // leading tokens whose K/V are in the cache
  std::vector<int32_t> block_table;
  // Sliding window: leading blocks already released because no future query can see them. Their
  // table entries are repointed at the first block still held (valid ids, never read).
  int32_t num_released_blocks = 0;
  std::vector<uint64_t> block_hashes;  // chain hashes of the leading full, published blocks
  bool skip_prefix_lookup = false;     // prompt logprobs need every prompt row computed
  bool admitted_once = false;
  int32_t cached_prompt_tokens = 0;    // prefix-cache hit at first admission
  int32_t preemptions = 0;
  // Speculative decoding: tokens proposed to follow the pending last token, verified by this
  // step's forward. They are not part of `tokens` until the engine accepts them.
  std::vector<int32_t> proposal;

  int32_t num_tokens() const { return static_cast<int32_t>(tokens.size()); }
  int32_t num_pending() const { return num_tokens() - num_computed; }
  // In the prompt phase (first admission, prompt not fully computed) rather than decoding.
  bool in_prefill() const { return num_pending() > 1; }
};

}  // namespace tgi::engine
