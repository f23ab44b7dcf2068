// No allocation in the step loop: once a model has run a batch of some shape, running that shape
// again (the steady state of a server) takes nothing from the heap, in the model or its backend.
// Counted by replacing the global operator new of this test binary; only the counting window
// below looks at the count.
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden.h"
#include "model/causal_lm.h"

namespace {

std::atomic<bool> counting{false};
std::atomic<int64_t> allocations{0};

void* counted_alloc(std::size_t size, std::size_t alignment) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = nullptr;
  if (alignment <= alignof(std::max_align_t)) {
    p = std::malloc(size == 0 ? 1 : size);
  } else if (posix_memalign(&p, alignment, size == 0 ? alignment : size) != 0) {
    p = nullptr;
  }
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) {
  return counted_alloc(size, alignof(std::max_align_t));
}
void* operator new[](std::size_t size) {
  return counted_alloc(size, alignof(std::max_align_t));
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  return counted_alloc(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return counted_alloc(size, static_cast<std::size_t>(alignment));
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace tgi::model::testing {
namespace {

// A mixed step as the scheduler builds them: one sequence decoding (one row, its last logits) and
// one prefilling a chunk of 5 rows (every row's logits).
struct MixedStep {
  std::vector<int32_t> token_ids{1, 2, 3, 4, 5, 6};
  std::vector<int32_t> positions{7, 0, 1, 2, 3, 4};
  std::vector<int32_t> decode_blocks{0}, prefill_blocks{1};
  std::vector<SequenceInBatch> sequences;
  Batch batch;
  std::vector<float> logits;

  explicit MixedStep(int32_t vocab) {
    SequenceInBatch decode;
    decode.query_start = 0;
    decode.query_len = 1;
    decode.context_len = 7;
    decode.block_table = decode_blocks;
    decode.logits = LogitsWanted::kLast;
    SequenceInBatch prefill;
    prefill.query_start = 1;
    prefill.query_len = 5;
    prefill.context_len = 0;
    prefill.block_table = prefill_blocks;
    prefill.logits = LogitsWanted::kAll;
    sequences = {decode, prefill};
    batch.token_ids = token_ids;
    batch.positions = positions;
    batch.sequences = sequences;
    logits.resize(static_cast<size_t>(batch.num_logit_rows()) * vocab);
  }
};

class StepAllocation : public ::testing::TestWithParam<const char*> {};

TEST_P(StepAllocation, SteadyStateStepsAllocateNothing) {
  LoadOptions options;
  options.num_threads = 2;
  auto model = load_causal_lm(kModelsDir / GetParam(), options);
  ASSERT_TRUE(model.ok()) << model.error().message;
  constexpr int32_t kBlockSize = 8;
  auto cache = (*model)->allocate_kv_cache(4, kBlockSize);
  MixedStep step((*model)->vocab_size());
  // The first step grows the buffers: the counter must see that, or it proves nothing below.
  allocations = 0;
  counting = true;
  const bool first_ok = (*model)->forward(step.batch, *cache, step.logits).ok();
  counting = false;
  ASSERT_TRUE(first_ok);
  EXPECT_GT(allocations.load(), 0) << "the first step of a shape allocates its buffers";
  ASSERT_TRUE((*model)->forward(step.batch, *cache, step.logits).ok());

  allocations = 0;
  counting = true;
  const auto result = (*model)->forward(step.batch, *cache, step.logits);
  counting = false;
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(allocations.load(), 0) << "heap allocations in a steady-state step";
}

// Dense, MoE, latent attention (MLA), learned positions with a parallel block, sliding window and
// sinks: every block kind and backend operation.
INSTANTIATE_TEST_SUITE_P(Architectures, StepAllocation,
                         ::testing::Values("llama3", "qwen3_moe", "deepseek_v3", "gpt2", "phi", "gpt_oss",
                                           "gemma3", "llama4_text"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace
}  // namespace tgi::model::testing
