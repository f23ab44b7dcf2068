#include "engine/kv_budget.h"

#include <gtest/gtest.h>

namespace tgi::engine {
namespace {

constexpr size_t kGiB = size_t{1} << 30;

TEST(DefaultKvTokens, HoldsTheConfiguredSequencesAtFullContext) {
  auto tokens = default_kv_tokens(2048, 16, 0.5, 20 * kGiB, 45056, 16);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(*tokens, 2048 * 16);
}

TEST(DefaultKvTokens, NeverMoreThanTheMemoryFractionAllows) {
  // 1 GiB available, half of it for 1 MiB per token: 512 tokens.
  auto tokens = default_kv_tokens(4096, 16, 0.5, kGiB, size_t{1} << 20, 16);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(*tokens, 512);
}

TEST(DefaultKvTokens, RoundsDownToWholeBlocksAndCapsAtTheAutomaticMaximum) {
  auto odd = default_kv_tokens(1000, 1, 1.0, 100 * kGiB, 1, 16);
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(*odd, 992);
  auto huge = default_kv_tokens(int64_t{1} << 20, 64, 1.0, 1000 * kGiB, 1, 16);
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(*huge, kMaxAutoKvTokens);
}

TEST(DefaultKvTokens, FailsWhenNotOneBlockFits) {
  auto tokens = default_kv_tokens(2048, 16, 0.5, 1000, 45056, 16);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().kind, ErrorKind::kOverloaded);
  EXPECT_FALSE(default_kv_tokens(2048, 16, 0.0, kGiB, 1, 16).ok());
  EXPECT_FALSE(default_kv_tokens(2048, 16, 0.5, kGiB, 1, 0).ok());
}

TEST(KvCacheBlocks, TheOperatorsTokenCountWins) {
  auto blocks = kv_cache_blocks(1000, 0.5, 0, 45056, 16);
  ASSERT_TRUE(blocks.ok());
  EXPECT_EQ(*blocks, 63);
}

}  // namespace
}  // namespace tgi::engine
