// A KV cache belongs to the backend that allocated it: another model's cache, even of the same
// shape, is refused instead of being read as if it were this backend's memory.
#include <vector>

#include <gtest/gtest.h>

#include "golden.h"
#include "model/causal_lm.h"

namespace tgi::model::testing {
namespace {

TEST(KvCacheOwner, AnotherModelsCacheIsRefused) {
  LoadOptions options;
  options.num_threads = 1;
  auto first = load_causal_lm(kModelsDir / "llama3", options);
  auto second = load_causal_lm(kModelsDir / "llama3", options);
  ASSERT_TRUE(first.ok() && second.ok());
  auto cache = (*first)->allocate_kv_cache(2, 16);
  const std::vector<int32_t> tokens{1, 2, 3}, positions{0, 1, 2}, blocks{0};
  SequenceInBatch s;
  s.query_start = 0;
  s.query_len = 3;
  s.block_table = blocks;
  s.logits = LogitsWanted::kLast;
  const std::vector<SequenceInBatch> sequences{s};
  Batch batch;
  batch.token_ids = tokens;
  batch.positions = positions;
  batch.sequences = sequences;
  std::vector<float> logits(static_cast<size_t>((*first)->vocab_size()));
  EXPECT_TRUE((*first)->forward(batch, *cache, logits).ok());
  const auto refused = (*second)->forward(batch, *cache, logits);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(refused.error().message.find("backend"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace tgi::model::testing
