#include "engine/scheduler.h"

#include <algorithm>

namespace tgi::engine {
namespace {

template <typename Container>
void insert_by_id(Container& c, Sequence* seq) {
  auto pos = std::upper_bound(c.begin(), c.end(), seq,
                              [](const Sequence* a, const Sequence* b) { return a->id < b->id; });
  c.insert(pos, seq);
}

template <typename Container>
bool erase_one(Container& c, Sequence* seq) {
  auto it = std::find(c.begin(), c.end(), seq);
  if (it == c.end()) return false;
  c.erase(it);
  return true;
}

}  // namespace

int32_t Scheduler::blocks_for(int32_t tokens) const {
  return (tokens + pool_.block_size() - 1) / pool_.block_size();
}

void Scheduler::enqueue(Sequence* seq) { insert_by_id(waiting_, seq); }

void Scheduler::remove(Sequence* seq) {
  if (!erase_one(running_, seq)) erase_one(waiting_, seq);
  reset_kv(seq);
}

void Scheduler::reset_kv(Sequence* seq) {
  pool_.release_all(std::span<const int32_t>(seq->block_table).subspan(
      std::min<size_t>(seq->num_released_blocks, seq->block_table.size())));
  seq->block_table.clear();
  seq->num_released_blocks = 0;
  seq->block_hashes.clear();
  seq->num_computed = 0;
  seq->proposal.clear();
}

void Scheduler::preempt(Sequence* seq, StepPlan& plan) {
  erase_one(running_, seq);
  reset_kv(seq);
  ++seq->preemptions;
  ++preemptions_;
  insert_by_id(waiting_, seq);
  plan.preempted.push_back(seq);
}

bool Scheduler::ensure_blocks(Sequence* seq, int32_t tokens, StepPlan& plan) {
  const auto needed = static_cast<size_t>(blocks_for(tokens));
  while (seq->block_table.size() < needed) {
    if (auto block = pool_.allocate()) {
      seq->block_table.push_back(*block);
      continue;
    }
    Sequence* victim = running_.back();
    preempt(victim, plan);
    if (victim == seq) return false;
  }
  return true;
}

void Scheduler::match_prefix(Sequence* seq) {
  const int32_t bs = pool_.block_size();
  // At least one token must be computed to produce logits, so a fully cached sequence
  // recomputes its last block rather than writing into a shared one.
  const int32_t max_blocks = (seq->num_tokens() - 1) / bs;
  uint64_t parent = 0;
  for (int32_t b = 0; b < max_blocks; ++b) {
    std::span<const int32_t> content(seq->tokens.data() + static_cast<size_t>(b) * bs, bs);
    const uint64_t hash = BlockPool::chain_hash(parent, content);
    auto block = pool_.acquire_cached(hash, parent, content);
    if (!block) break;
    seq->block_table.push_back(*block);
    seq->block_hashes.push_back(hash);
    parent = hash;
  }
  seq->num_computed = static_cast<int32_t>(seq->block_table.size()) * bs;
}

bool Scheduler::try_admit(Sequence* seq, int32_t /*token_budget_left*/, StepPlan& /*plan*/) {
  if (pool_.prefix_caching() && !seq->skip_prefix_lookup) match_prefix(seq);
  const int32_t needed = blocks_for(seq->num_tokens()) - static_cast<int32_t>(seq->block_table.size());
  const int32_t reserve = static_cast<int32_t>(running_.size());
  if (pool_.num_available() < needed + reserve) {
    reset_kv(seq);
    return false;
  }
  for (int32_t i = 0; i < needed; ++i) seq->block_table.push_back(*pool_.allocate());
  if (!seq->admitted_once) {
    seq->admitted_once = true;
    seq->cached_prompt_tokens = std::min(seq->num_computed, seq->prompt_len);
  }
  prefix_hit_tokens_ += seq->num_computed;
  return true;
}

StepPlan Scheduler::schedule() {
  StepPlan plan;
  int32_t budget = limits_.max_step_tokens;

  // 1. Decode rows, oldest first; they always run.
  for (size_t i = 0; i < running_.size(); ++i) {
    Sequence* seq = running_[i];
    if (seq->num_pending() != 1) continue;
    if (!ensure_blocks(seq, seq->num_computed + 1, plan)) break;  // it was the newest
    plan.chunks.push_back({seq, seq->num_computed, 1});
    --budget;
  }
  add_lookahead(plan, 0, budget);

  // 2. Continue prompts already in prefill (their blocks were allocated at admission).
  for (Sequence* seq : running_) {
    if (budget <= 0) break;
    if (seq->num_pending() <= 1) continue;
    const int32_t len = std::min(seq->num_pending(), budget);
    plan.chunks.push_back({seq, seq->num_computed, len});
    budget -= len;
  }

  // 3. Admit from the queue front while budgets and KV allow.
  while (!waiting_.empty() && budget > 0) {
    if (limits_.max_batch_size > 0 &&
        static_cast<int32_t>(running_.size()) >= limits_.max_batch_size)
      break;
    Sequence* seq = waiting_.front();
    // Re-admitting what was just preempted for lack of blocks would only thrash.
    if (std::find(plan.preempted.begin(), plan.preempted.end(), seq) != plan.preempted.end()) break;
    if (!try_admit(seq, budget, plan)) break;
    waiting_.pop_front();
    insert_by_id(running_, seq);
    plan.admitted.push_back(seq);
    const int32_t len = std::min(seq->num_pending(), budget);
    plan.chunks.push_back({seq, seq->num_computed, len});
    budget -= len;
  }
  return plan;
}

void Scheduler::add_lookahead(StepPlan& plan, size_t first_decode_chunk, int32_t& budget) {
  // What admission keeps free: a spare block per running sequence.
  const auto reserve = static_cast<int32_t>(running_.size());
  for (size_t c = first_decode_chunk; c < plan.chunks.size(); ++c) {
    ScheduledChunk& chunk = plan.chunks[c];
    Sequence* seq = chunk.seq;
    int32_t want = std::min(static_cast<int32_t>(seq->proposal.size()), std::max(0, budget));
    if (want <= 0) continue;
    // Blocks the sequence already holds past its pending token cover part of the lookahead.
    const int32_t end = chunk.start + chunk.len;
    const auto held = static_cast<int32_t>(seq->block_table.size()) * pool_.block_size();
    const int32_t extra_blocks =
        std::max(0, blocks_for(end + want) - static_cast<int32_t>(seq->block_table.size()));
    const int32_t affordable = std::max(0, pool_.num_available() - reserve);
    if (extra_blocks > affordable) {
      want = std::max(0, std::min(want, held + affordable * pool_.block_size() - end));
      if (want <= 0) continue;
    }
    for (int32_t b = blocks_for(end + want) - static_cast<int32_t>(seq->block_table.size()); b > 0; --b)
      seq->block_table.push_back(*pool_.allocate());
    chunk.len += want;
    chunk.proposed = want;
    budget -= want;
  }
}

void Scheduler::publish_full_blocks(Sequence* seq) {
  if (!pool_.prefix_caching()) return;
  const int32_t bs = pool_.block_size();
  const size_t full = static_cast<size_t>(seq->num_computed / bs);
  for (size_t b = seq->block_hashes.size(); b < full; ++b) {
    const uint64_t parent = b == 0 ? 0 : seq->block_hashes[b - 1];
    std::span<const int32_t> content(seq->tokens.data() + b * bs, bs);
    const uint64_t hash = BlockPool::chain_hash(parent, content);
    pool_.publish(seq->block_table[b], hash, parent, content);
    seq->block_hashes.push_back(hash);
  }
}

void Scheduler::complete(const StepPlan& plan) {
  for (const ScheduledChunk& chunk : plan.chunks) {
    Sequence* seq = chunk.seq;
    seq->num_computed = chunk.start + chunk.len - chunk.proposed;
    publish_full_blocks(seq);
  }
  if (limits_.sliding_window > 0)
    for (const ScheduledChunk& chunk : plan.chunks) release_out_of_window(chunk.seq);
}

void Scheduler::accept_proposed(Sequence* seq, int32_t accepted) {
  if (accepted <= 0) return;
  // Accepted proposals were rows of that forward, so their K/V are in place; the token sampled
  // after them is the new pending one (never computed yet), hence the bound.
  seq->num_computed = std::min(seq->num_computed + accepted, seq->num_tokens() - 1);
  publish_full_blocks(seq);
  if (limits_.sliding_window > 0) release_out_of_window(seq);
}

void Scheduler::release_out_of_window(Sequence* seq) {
  // Future queries sit at positions >= num_computed and see [pos - window + 1, pos].
  const int32_t first_visible = seq->num_computed - limits_.sliding_window + 1;
  if (first_visible <= 0) return;
  const int32_t releasable = first_visible / pool_.block_size();
  if (releasable <= seq->num_released_blocks || releasable >= static_cast<int32_t>(seq->block_table.size())) return;
  const int32_t placeholder = seq->block_table[releasable];
  for (int32_t b = 0; b < releasable; ++b) {
    if (b >= seq->num_released_blocks) pool_.release(seq->block_table[b]);
    seq->block_table[b] = placeholder;
  }
  seq->num_released_blocks = releasable;
}

}  // namespace tgi::engine
