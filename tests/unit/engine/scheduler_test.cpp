// Scheduler traces computed by hand (see each test's comments).
#include "engine/scheduler.h"

#include <memory>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

namespace tgi::engine {
namespace {

struct Chunk {
  int64_t id;
  int32_t start, len;
  bool operator==(const Chunk&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Chunk& c) {
  return os << "{seq " << c.id << " @" << c.start << " +" << c.len << "}";
}

class Trace {
 public:
  Trace(int32_t num_blocks, int32_t block_size, SchedulerLimits limits, bool prefix_caching = false)
      : pool(num_blocks, block_size, prefix_caching), scheduler(pool, limits) {}

  Sequence* add(int32_t prompt_len, int32_t first_token = 100) {
    auto seq = std::make_unique<Sequence>();
    seq->id = static_cast<int64_t>(seqs.size());
    seq->tokens.resize(prompt_len);
    std::iota(seq->tokens.begin(), seq->tokens.end(), first_token);
    seq->prompt_len = prompt_len;
    scheduler.enqueue(seq.get());
    seqs.push_back(std::move(seq));
    return seqs.back().get();
  }
  Sequence* add_tokens(std::vector<int32_t> tokens) {
    Sequence* s = add(0);
    s->tokens = std::move(tokens);
    s->prompt_len = s->num_tokens();
    return s;
  }

  // One step: schedule, pretend the forward ran, append a token for every sampling chunk.
  std::vector<Chunk> step() {
    last = scheduler.schedule();
    std::vector<Chunk> out;
    sampled.clear();
    for (const auto& c : last.chunks) {
      out.push_back({c.seq->id, c.start, c.len});
      sampled.push_back(c.samples());
    }
    scheduler.complete(last);
    for (const auto& c : last.chunks)
      if (c.samples()) c.seq->tokens.push_back(1);
    return out;
  }

  BlockPool pool;
  Scheduler scheduler;
  StepPlan last;
  std::vector<bool> sampled;  // per chunk of the last step: did it produce a token
  std::vector<std::unique_ptr<Sequence>> seqs;
};

TEST(Scheduler, ChunkedPrefillFillsTheTokenBudgetAndDecodesFirst) {
  // Budget 32 tokens/step. Prompts 10, 20, 30.
  Trace t(100, 4, {.max_step_tokens = 32, .max_batch_size = 0});
  t.add(10);
  t.add(20);
  t.add(30);
  // Step 1: A and B whole, C gets the 2 tokens left.
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 0, 10}, {1, 0, 20}, {2, 0, 2}}));
  // Step 2: A and B decode (2 tokens), C continues with the remaining 28.
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 10, 1}, {1, 20, 1}, {2, 2, 28}}));
  // Step 3: everyone decodes.
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 11, 1}, {1, 21, 1}, {2, 30, 1}}));
  EXPECT_EQ(t.seqs[0]->num_tokens(), 13);
  EXPECT_EQ(t.seqs[2]->num_tokens(), 32);
}

TEST(Scheduler, PromptLongerThanBudgetIsSplitAcrossSteps) {
  Trace t(100, 4, {.max_step_tokens = 8});
  t.add(20);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 0, 8}}));
  EXPECT_FALSE(t.sampled[0]);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 8, 8}}));
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 16, 4}}));
  EXPECT_TRUE(t.sampled[0]);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 20, 1}}));
}

TEST(Scheduler, DecodeRowsCountAgainstTheBudgetOfNewPrompts) {
  Trace t(100, 4, {.max_step_tokens = 6});
  t.add(4);
  t.add(4);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 0, 4}, {1, 0, 2}}));
  t.add(4);
  // A decodes (1), B finishes its prompt (2), C gets the 3 left.
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 4, 1}, {1, 2, 2}, {2, 0, 3}}));
}

TEST(Scheduler, MaxBatchSizeHoldsNewcomersUntilASequenceLeaves) {
  Trace t(100, 4, {.max_step_tokens = 100, .max_batch_size = 2});
  t.add(3);
  t.add(3);
  t.add(3);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 0, 3}, {1, 0, 3}}));
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 3, 1}, {1, 3, 1}}));
  t.scheduler.remove(t.seqs[0].get());
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{1, 4, 1}, {2, 0, 3}}));
}

TEST(Scheduler, AdmissionIsFifoAndWaitsForKv) {
  // 10 blocks of 4. A (30 tokens) takes 8 blocks; B needs 3 + 1 spare for A: does not fit, and
  // C (fits) must not jump the queue.
  Trace t(10, 4, {.max_step_tokens = 100});
  t.add(30);
  t.add(12);
  t.add(2);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 0, 30}}));
  EXPECT_EQ(t.scheduler.waiting().size(), 2u);
  EXPECT_EQ(t.pool.num_available(), 2);
  t.scheduler.remove(t.seqs[0].get());
  EXPECT_EQ(t.pool.num_available(), 10);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{1, 0, 12}, {2, 0, 2}}));
}

TEST(Scheduler, PreemptsTheNewestWhenKvRunsOutAndResumesByRecompute) {
  // 4 blocks of 4 tokens. A: prompt 6 (2 blocks). B: prompt 3 (1 block + 1 spare for A).
  Trace t(4, 4, {.max_step_tokens = 100});
  t.add(6);
  t.add(3);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 0, 6}, {1, 0, 3}}));  // A 7 tokens, B 4
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 6, 1}, {1, 3, 1}}));  // A 8, B 5
  EXPECT_EQ(t.pool.num_available(), 1);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 7, 1}, {1, 4, 1}}));  // B takes the last block
  EXPECT_EQ(t.pool.num_available(), 0);
  // A's 9th token needs a third block: B (newest) is preempted and A proceeds.
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 8, 1}}));
  ASSERT_EQ(t.last.preempted.size(), 1u);
  EXPECT_EQ(t.last.preempted[0]->id, 1);
  EXPECT_EQ(t.seqs[1]->num_computed, 0);
  EXPECT_TRUE(t.seqs[1]->block_table.empty());
  EXPECT_EQ(t.scheduler.preemptions(), 1);
  EXPECT_EQ(t.seqs[1]->num_tokens(), 6);  // its generated tokens are kept
  EXPECT_EQ(t.pool.num_available(), 1);
  // B cannot come back while A holds 3 of 4 blocks (B needs 2 + 1 spare).
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 9, 1}}));
  t.scheduler.remove(t.seqs[0].get());
  // B recomputes prompt + generated (6 tokens) in one chunk and samples its next token.
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{1, 0, 6}}));
  EXPECT_TRUE(t.sampled[0]);
  EXPECT_EQ(t.seqs[1]->cached_prompt_tokens, 0);
}

TEST(Scheduler, OldestPreemptsItselfOnlyWhenAlone) {
  // A single sequence that fits the pool never gets preempted.
  Trace t(2, 2, {.max_step_tokens = 100});
  t.add(2);
  for (int i = 0; i < 2; ++i) t.step();
  EXPECT_EQ(t.seqs[0]->num_tokens(), 4);
  EXPECT_EQ(t.scheduler.preemptions(), 0);
  EXPECT_EQ(t.seqs[0]->block_table.size(), 2u);
}

TEST(Scheduler, IdenticalPromptComputesOnlyItsLastPartialBlock) {
  Trace t(20, 4, {.max_step_tokens = 100}, /*prefix_caching=*/true);
  t.add(10);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 0, 10}}));
  t.add(10);  // same tokens 100..109
  // A decodes; B reuses A's two full blocks (8 tokens) and computes 2.
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 10, 1}, {1, 8, 2}}));
  EXPECT_EQ(t.seqs[1]->cached_prompt_tokens, 8);
  EXPECT_EQ(t.seqs[1]->block_table[0], t.seqs[0]->block_table[0]);
  EXPECT_EQ(t.seqs[1]->block_table[1], t.seqs[0]->block_table[1]);
  EXPECT_NE(t.seqs[1]->block_table[2], t.seqs[0]->block_table[2]);
  EXPECT_EQ(t.pool.refcount(t.seqs[0]->block_table[0]), 2);
  EXPECT_EQ(t.scheduler.prefix_hit_tokens(), 8);
}

TEST(Scheduler, FullyCachedPromptStillComputesItsLastBlock) {
  Trace t(20, 4, {.max_step_tokens = 100}, true);
  t.add(8);
  t.step();
  t.scheduler.remove(t.seqs[0].get());  // its blocks stay cached, unreferenced
  EXPECT_EQ(t.pool.num_cached_unreferenced(), 2);
  t.add(8);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{1, 4, 4}}));
  EXPECT_EQ(t.seqs[1]->cached_prompt_tokens, 4);
}

TEST(Scheduler, GeneratedTokensAreCachedToo) {
  // A: prompt 3, generates until it fills two blocks; a later prompt equal to A's prompt plus
  // generated tokens (a multi-turn follow-up) hits both blocks.
  Trace t(20, 4, {.max_step_tokens = 100}, true);
  t.add(3);
  for (int i = 0; i < 6; ++i) t.step();  // 3 + 6 tokens, 8 computed
  EXPECT_EQ(t.seqs[0]->num_computed, 8);
  std::vector<int32_t> follow_up = t.seqs[0]->tokens;
  follow_up.resize(8);
  follow_up.push_back(42);
  t.scheduler.remove(t.seqs[0].get());
  t.add_tokens(follow_up);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{1, 8, 1}}));
  EXPECT_EQ(t.seqs[1]->cached_prompt_tokens, 8);
}

TEST(Scheduler, PrefixDivergingInTheMiddleStopsAtTheLastCommonBlock) {
  Trace t(20, 2, {.max_step_tokens = 100}, true);
  t.add_tokens({1, 2, 3, 4, 5, 6});
  t.step();
  t.add_tokens({1, 2, 3, 9, 5, 6});  // block 0 equal, block 1 differs, block 2 equal content
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 6, 1}, {1, 2, 4}}));
  EXPECT_EQ(t.seqs[1]->cached_prompt_tokens, 2);
}

TEST(Scheduler, SkipPrefixLookupComputesEverything) {
  Trace t(20, 4, {.max_step_tokens = 100}, true);
  t.add(10);
  t.step();
  Sequence* b = t.add(10);
  b->skip_prefix_lookup = true;
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 10, 1}, {1, 0, 10}}));
}

TEST(Scheduler, SlidingWindowReleasesBlocksNoQueryCanSeeAnyMore) {
  // Window 8, blocks of 4. After a 20-token prompt the next query (position 20) sees 13..20:
  // blocks 0-2 (positions 0-11) go back to the pool, their entries point at block 3.
  Trace t(10, 4, {.max_step_tokens = 100, .max_batch_size = 0, .sliding_window = 8});
  Sequence* a = t.add(20);
  t.step();
  EXPECT_EQ(a->num_released_blocks, 3);
  EXPECT_EQ(t.pool.num_available(), 10 - 5 + 3);
  for (int b = 0; b < 3; ++b) EXPECT_EQ(a->block_table[b], a->block_table[3]);
  // Positions 20, 21 computed: the next query (22) sees 15..22, still inside block 3.
  for (int i = 0; i < 2; ++i) t.step();
  EXPECT_EQ(a->num_released_blocks, 3);
  // Position 22 computed: the next query (23) sees 16..23, so block 3 goes as well.
  t.step();
  EXPECT_EQ(a->num_computed, 23);
  EXPECT_EQ(a->num_released_blocks, 4);
  for (int b = 0; b < 4; ++b) EXPECT_EQ(a->block_table[b], a->block_table[4]);
  // Removing the sequence releases only what it still holds.
  t.scheduler.remove(a);
  EXPECT_EQ(t.pool.num_available(), 10);
}

TEST(Scheduler, RemovingAQueuedSequenceFreesNothingAndDropsIt) {
  Trace t(4, 4, {.max_step_tokens = 100});
  t.add(4);
  Sequence* b = t.add(4);
  t.scheduler.remove(b);
  EXPECT_EQ(t.scheduler.waiting().size(), 1u);
  EXPECT_EQ(t.step(), (std::vector<Chunk>{{0, 0, 4}}));
}

}  // namespace
}  // namespace tgi::engine

namespace tgi::engine {
namespace {

// Speculation: a decode row grows by its proposal within the free blocks past the admission
// reserve and the step's token budget, and never preempts anyone for it.
TEST(SchedulerLookahead, ProposalsExtendDecodeRowsWithinFreeBlocksAndBudget) {
  Trace t(8, 4, {.max_step_tokens = 100});
  t.add(3);
  t.add(3);
  t.step();  // both prompts, one token each: 4 tokens, one block each
  EXPECT_EQ(t.pool.num_available(), 6);
  t.seqs[0]->proposal = {7, 7, 7, 7, 7, 7};
  t.seqs[1]->proposal = {8, 8};
  StepPlan plan = t.scheduler.schedule();
  ASSERT_EQ(plan.chunks.size(), 2u);
  // A: pending token + 6 proposals reach position 10 → 3 blocks; B: + 2 → 2 blocks.
  EXPECT_EQ(plan.chunks[0].len, 7);
  EXPECT_EQ(plan.chunks[0].proposed, 6);
  EXPECT_EQ(plan.chunks[1].len, 3);
  EXPECT_EQ(plan.chunks[1].proposed, 2);
  EXPECT_TRUE(plan.chunks[0].samples());
  EXPECT_EQ(t.seqs[0]->block_table.size(), 3u);
  EXPECT_EQ(t.seqs[1]->block_table.size(), 2u);
  EXPECT_EQ(t.pool.num_available(), 3);
  t.scheduler.complete(plan);
  EXPECT_EQ(t.seqs[0]->num_computed, 4);  // proposals are not computed until accepted
  // Two of A's proposals kept plus the token after them.
  t.seqs[0]->tokens.insert(t.seqs[0]->tokens.end(), {7, 7, 5});
  t.scheduler.accept_proposed(t.seqs[0].get(), 2);
  EXPECT_EQ(t.seqs[0]->num_computed, 6);
  EXPECT_EQ(t.seqs[0]->num_pending(), 1);
}

TEST(SchedulerLookahead, NeverTakesTheAdmissionReserveOrPreempts) {
  Trace t(4, 4, {.max_step_tokens = 100});
  t.add(3);
  t.add(3);
  t.step();
  EXPECT_EQ(t.pool.num_available(), 2);  // 2 running: both free blocks are the reserve
  t.seqs[0]->proposal = {7, 7, 7, 7, 7, 7, 7, 7};
  StepPlan plan = t.scheduler.schedule();
  ASSERT_EQ(plan.chunks.size(), 2u);
  EXPECT_EQ(plan.chunks[0].proposed, 0);  // the block is full: no room without a new one
  EXPECT_TRUE(plan.preempted.empty());
  EXPECT_EQ(t.pool.num_available(), 2);
}

TEST(SchedulerLookahead, ProposalsShareTheStepTokenBudget) {
  Trace t(64, 4, {.max_step_tokens = 6});
  t.add(3);
  t.add(3);
  t.step();
  t.seqs[0]->proposal = {7, 7, 7, 7, 7};
  t.seqs[1]->proposal = {8, 8, 8};
  StepPlan plan = t.scheduler.schedule();
  ASSERT_EQ(plan.chunks.size(), 2u);
  EXPECT_EQ(plan.chunks[0].proposed, 4);  // 6 - 2 decode rows
  EXPECT_EQ(plan.chunks[1].proposed, 0);
  EXPECT_EQ(plan.num_tokens(), 6);
}

TEST(SchedulerLookahead, PreemptionDropsTheProposal) {
  Trace t(4, 4, {.max_step_tokens = 100});
  t.add(6);
  t.add(3);
  t.step();
  t.step();
  t.step();  // A 9 tokens (needs a 3rd block next), B 6
  t.seqs[1]->proposal = {8, 8};
  t.step();  // B is preempted for A's block
  EXPECT_TRUE(t.seqs[1]->proposal.empty());
}

}  // namespace
}  // namespace tgi::engine
