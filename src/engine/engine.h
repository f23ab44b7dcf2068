#pragma once
// The engine: one thread (the engine loop) owns every piece of mutable serving state — the
// waiting queue, running sequences, KV block allocator and prefix cache, scheduler, sampler.
// Other threads only submit requests, cancel them and read stats snapshots.
//
// Event contract per request (see token_event.h): optional kPrompt, then kToken events, then
// exactly one kEnd or one kError; after that the sink is never called again for that request.
// best_of = n > 1: every event carries `candidate` in [0, n); each candidate ends with its own
// kEnd; candidate kEnds are held back until all n finished, and the winner's kEnd (highest mean
// logprob, `best_of_winner = true`) is the request's very last event.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/generation_request.h"
#include "engine/speculation.h"
#include "engine/token_event.h"

namespace tgi::model {
class CausalLm;
}
namespace tgi::tokenizer {
class Tokenizer;
}

namespace tgi::engine {

struct EngineConfig {
  int32_t max_batch_prefill_tokens = 4096;  // prompt tokens computed per step (chunked prefill)
  int32_t max_batch_total_tokens = 0;       // KV budget in tokens; 0: size it from free memory
  int32_t max_batch_size = 0;               // sequences per step; 0: unlimited
  int32_t max_concurrent_requests = 128;    // in flight (queued + running); more → kOverloaded
  int32_t block_size = 16;                  // tokens per KV block
  double kv_cache_memory_fraction = 0.5;    // of available memory, when sizing the KV budget
  bool prefix_caching = true;
  // Kept for TGI flag compatibility; with chunked prefill new requests join every step, so
  // these only matter when a step has no prefill budget left (they are then ignored).
  int32_t max_waiting_tokens = 20;
  float waiting_served_ratio = 0.3f;
  // End-of-sequence ids (config.json / generation_config.json); the tokenizer's are added.
  std::vector<int32_t> eos_token_ids;
  // Sliding-window block release: when every layer of the model attends only to its last
  // ModelConfig::sliding_window positions, blocks that fall out of the window go back to the pool.
  // The window comes from the model; set 0 here to keep all blocks anyway.
  int32_t sliding_window = -1;
  // Speculative decoding (n-gram proposals); off when speculation.max_tokens is 0.
  SpeculationConfig speculation;
};

// A thread-safe snapshot for /metrics and /info.
struct EngineStats {
  int32_t queue_size = 0;        // waiting (not yet scheduled, or preempted) requests
  int32_t running = 0;           // sequences holding KV blocks
  int32_t in_flight = 0;         // accepted and not yet finished requests
  int32_t last_batch_size = 0;   // sequences in the last step (0 when idle)
  int32_t last_batch_tokens = 0; // tokens in the last step
  int32_t kv_blocks_total = 0;
  int32_t kv_blocks_used = 0;    // referenced by a running sequence
  int32_t kv_blocks_cached = 0;  // unreferenced but kept for prefix reuse (evictable)
  int32_t block_size = 0;
  int32_t max_total_tokens = 0;  // the KV budget in tokens
  int64_t steps = 0;             // forward passes
  int64_t forward_failures = 0;
  int64_t prefill_tokens = 0;    // prompt tokens computed (excludes prefix-cache hits)
  int64_t decode_tokens = 0;     // generated tokens computed
  int64_t prefix_cache_hit_tokens = 0;
  int64_t preemptions = 0;
  int64_t speculative_steps = 0;  // sequence-steps that verified a proposal
  int64_t speculative_proposed_tokens = 0;
  int64_t speculative_accepted_tokens = 0;
  int64_t grammar_masks = 0;             // token masks applied to constrained rows
  int64_t grammar_masks_overlapped = 0;  // of those, computed while the forward ran
  int64_t requests_finished = 0;
  int64_t requests_cancelled = 0;
  int64_t requests_failed = 0;
};

// The submitter's grip on a request. cancel() is a flag the engine loop checks every step: the
// request leaves the batch at the next step, its blocks return to the pool and its sink gets a
// final kError (kind kGeneration, message "cancelled") only if it had not already ended.
class RequestHandle {
 public:
  explicit RequestHandle(std::string request_id) : request_id_(std::move(request_id)) {}
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  const std::string& request_id() const { return request_id_; }

 private:
  std::string request_id_;
  std::atomic<bool> cancelled_{false};
};

// Called on the engine thread; must be cheap and must not block (post to your own executor).
// Exceptions thrown by a sink are caught and cancel that request.
using EventSink = std::function<void(TokenEvent&&)>;

class Engine {
 public:
  // Sizes the KV cache (max_batch_total_tokens, or from free memory), allocates it and starts the
  // engine loop thread. Fails when even one block cannot be allocated or the config is invalid.
  // `draft`: a smaller model over the same vocabulary whose greedy tokens are the speculative
  // proposals (with config.speculation.max_tokens > 0) instead of prompt lookup. It gets a KV
  // cache of its own laid out on the same block ids, so the budget counts both models' bytes per
  // token. Models whose every layer slides its window (blocks are released) use prompt lookup.
  static Result<std::unique_ptr<Engine>> create(std::unique_ptr<model::CausalLm> model,
                                                std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                                                EngineConfig config,
                                                std::unique_ptr<model::CausalLm> draft = nullptr);
  ~Engine();  // shutdown()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request (never blocks). Fails fast with kOverloaded when max_concurrent_requests
  // are in flight (a best_of = n request counts n), kValidation when it can never fit the KV
  // budget (input + max_new_tokens > max_total_tokens_budget()) or has no input, kGeneration
  // after shutdown().
  Result<std::shared_ptr<RequestHandle>> submit(GenerationRequest request, EventSink sink);

  EngineStats stats() const;
  int32_t max_total_tokens_budget() const;  // the chosen KV budget in tokens (logged at start)
  const EngineConfig& config() const;

  // Stops accepting, cancels everything queued or running (each gets kError "shutting down"),
  // joins the loop thread. Idempotent.
  void shutdown();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tgi::engine
