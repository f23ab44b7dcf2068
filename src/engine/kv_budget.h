#pragma once
// How many KV tokens the engine may use: the operator's --max-batch-total-tokens, or a fraction
// of the memory available at start-up, as the model's backend reports it (CausalLm::memory():
// free device memory on a GPU, as TGI sizes it after warm-up; on the CPU MemAvailable, the weights
// being placed and already counted).
#include <cstddef>
#include <cstdint>

#include "core/error.h"

namespace tgi::engine {

// Automatic sizing never goes beyond this many tokens: a CPU cache this large is already far
// more than its decode throughput can use, and the pages would be reserved for nothing.
constexpr int64_t kMaxAutoKvTokens = int64_t{1} << 18;

// What the server reserves when the operator names no --max-batch-total-tokens: room for
// `sequences` requests of `context_tokens` each (the context and concurrency the server is
// configured for), but never more than `memory_fraction` of `available_bytes` (measured after the
// weights are placed) nor kMaxAutoKvTokens. At least one block; an error when not even that fits.
// A person sizing a CPU server picks the same: a budget that fills half the RAM for a 2k-token
// context only reserves pages no batch the CPU can decode at speed will ever reach.
Result<int64_t> default_kv_tokens(int64_t context_tokens, int64_t sequences, double memory_fraction,
                                  size_t available_bytes, size_t kv_bytes_per_token, int32_t block_size);

// Sequences the default budget holds at full context when --max-batch-size does not say: a CPU
// decode step's throughput stops growing well before this batch (bench/RESULTS.md).
constexpr int64_t kDefaultKvSequences = 16;

// Number of blocks for the cache. `requested_tokens` > 0 wins; else `memory_fraction` of
// `available_bytes`, capped at kMaxAutoKvTokens.
Result<int32_t> kv_cache_blocks(int32_t requested_tokens, double memory_fraction, size_t available_bytes,
                                size_t kv_bytes_per_token, int32_t block_size);

}  // namespace tgi::engine
