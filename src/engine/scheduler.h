#pragma once
// The scheduler decides, each step, which tokens of which sequences run together: one ragged
// batch fusing every running sequence's decode token with prompt chunks (chunked prefill).
//
// Policy, in order:
//  1. Decode rows of running sequences, oldest first. Each is always scheduled; when its next
//     token needs a block and none is available, the newest running sequence is preempted (its
//     blocks released, its KV recomputed later) — possibly itself. The oldest always progresses.
//     Then a decode row with a speculative proposal (Sequence::proposal) grows by the proposed
//     tokens that fit the step's token budget and the free blocks beyond the admission reserve;
//     lookahead never preempts anything and never takes a block another decode row needs.
//  2. Prompt chunks of running sequences still in prefill, oldest first, within the step's token
//     budget (max_step_tokens, counting the decode rows).
//  3. Admission from the FIFO waiting queue (preempted sequences first, by age) while the
//     budgets allow: batch size, token budget (the last admitted prompt may be chunked), and KV:
//     a sequence is admitted only when all blocks of its tokens fit now, leaving one spare block
//     per running sequence. Admission never skips ahead of the queue front.
// Prefix caching: at admission the leading full blocks are looked up by chain hash; hits are
// shared (refcount) and not recomputed, but at least one token is always computed.
// Sliding window (all layers): blocks wholly before every future query's window are released.
#include <cstdint>
#include <deque>
#include <vector>

#include "engine/block_pool.h"
#include "engine/sequence.h"

namespace tgi::engine {

struct SchedulerLimits {
  int32_t max_step_tokens = 4096;  // max_batch_prefill_tokens (decode rows included)
  int32_t max_batch_size = 0;      // running sequences; 0: unlimited
  // Every layer attends only to the last `sliding_window` positions (0: full attention): blocks
  // that fell out of the window are returned to the pool as the sequence advances.
  int32_t sliding_window = 0;
};

struct ScheduledChunk {
  Sequence* seq = nullptr;
  int32_t start = 0;  // == seq->num_computed when planned
  int32_t len = 0;
  int32_t proposed = 0;  // trailing rows that are speculative proposals (seq->proposal's first ones)
  // Reaches the last token (and so is sampled from).
  bool samples() const { return start + len - proposed == seq->num_tokens(); }
};

struct StepPlan {
  std::vector<ScheduledChunk> chunks;
  std::vector<Sequence*> admitted;   // newly admitted this step (incl. resumed after preemption)
  std::vector<Sequence*> preempted;  // moved back to the waiting queue this step
  int32_t num_tokens() const {
    int32_t n = 0;
    for (const auto& c : chunks) n += c.len;
    return n;
  }
  bool empty() const { return chunks.empty(); }
};

class Scheduler {
 public:
  Scheduler(BlockPool& pool, SchedulerLimits limits) : pool_(pool), limits_(limits) {}

  void enqueue(Sequence* seq);  // at the back of the waiting queue
  // Takes a sequence out (finished, cancelled or failed), releasing its blocks.
  void remove(Sequence* seq);
  StepPlan schedule();
  // The plan's forward pass succeeded: advance num_computed past each chunk's real tokens and
  // publish newly full blocks to the prefix cache. Sampled tokens are appended by the caller
  // afterwards.
  void complete(const StepPlan& plan);
  // The engine kept `accepted` proposed tokens of seq's last chunk (already appended to
  // seq->tokens): their K/V, written by that forward, count as computed. Rejected proposals'
  // K/V stay in the lookahead slots, are never published and are overwritten later.
  void accept_proposed(Sequence* seq, int32_t accepted);

  const std::deque<Sequence*>& waiting() const { return waiting_; }
  const std::vector<Sequence*>& running() const { return running_; }
  BlockPool& pool() { return pool_; }
  int64_t preemptions() const { return preemptions_; }
  int64_t prefix_hit_tokens() const { return prefix_hit_tokens_; }

 private:
  int32_t blocks_for(int32_t tokens) const;
  // Grows seq's block table to cover `tokens`, preempting newer sequences when short.
  // False when seq itself had to be preempted.
  bool ensure_blocks(Sequence* seq, int32_t tokens, StepPlan& plan);
  void preempt(Sequence* seq, StepPlan& plan);
  bool try_admit(Sequence* seq, int32_t token_budget_left, StepPlan& plan);
  void match_prefix(Sequence* seq);
  void reset_kv(Sequence* seq);
  void release_out_of_window(Sequence* seq);
  void publish_full_blocks(Sequence* seq);
  // Extends decode chunks with their proposals, as far as free blocks and `budget` allow.
  void add_lookahead(StepPlan& plan, size_t first_decode_chunk, int32_t& budget);

  BlockPool& pool_;
  SchedulerLimits limits_;
  std::deque<Sequence*> waiting_;   // sorted by id
  std::vector<Sequence*> running_;  // sorted by id
  int64_t preemptions_ = 0;
  int64_t prefix_hit_tokens_ = 0;
};

}  // namespace tgi::engine
