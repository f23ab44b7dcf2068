#include "engine/block_pool.h"

#include <gtest/gtest.h>

namespace tgi::engine {
namespace {

TEST(BlockPool, AllocatesEveryBlockOnceThenRunsOut) {
  BlockPool pool(3, 4, /*prefix_caching=*/false);
  EXPECT_EQ(pool.num_available(), 3);
  auto a = pool.allocate(), b = pool.allocate(), c = pool.allocate();
  ASSERT_TRUE(a && b && c);
  EXPECT_NE(*a, *b);
  EXPECT_NE(*b, *c);
  EXPECT_FALSE(pool.allocate().has_value());
  EXPECT_EQ(pool.num_referenced(), 3);
  pool.release(*b);
  EXPECT_EQ(pool.num_available(), 1);
  EXPECT_EQ(pool.allocate(), b);
}

TEST(BlockPool, SharedBlockIsFreedOnlyByItsLastReference) {
  BlockPool pool(2, 4, false);
  auto a = *pool.allocate();
  pool.retain(a);
  EXPECT_EQ(pool.refcount(a), 2);
  pool.release(a);
  EXPECT_EQ(pool.num_available(), 1);
  pool.release(a);
  EXPECT_EQ(pool.num_available(), 2);
}

TEST(BlockPool, PublishedBlockIsReusedByContentAndVerified) {
  BlockPool pool(4, 2, true);
  const std::vector<int32_t> tokens{7, 8};
  const uint64_t h = BlockPool::chain_hash(0, tokens);
  auto a = *pool.allocate();
  pool.publish(a, h, 0, tokens);
  pool.release(a);
  EXPECT_EQ(pool.num_cached_unreferenced(), 1);
  EXPECT_EQ(pool.num_available(), 4);  // cached blocks are evictable
  // Same hash but different content or parent: no hit (collision safety).
  const std::vector<int32_t> other{7, 9};
  EXPECT_FALSE(pool.acquire_cached(h, 0, other).has_value());
  EXPECT_FALSE(pool.acquire_cached(h, 5, tokens).has_value());
  auto hit = pool.acquire_cached(h, 0, tokens);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(*hit, a);
  EXPECT_EQ(pool.refcount(a), 1);
  EXPECT_EQ(pool.num_cached_unreferenced(), 0);
}

TEST(BlockPool, EvictsLeastRecentlyUsedCachedBlockWhenFreeListIsEmpty) {
  BlockPool pool(2, 1, true);
  auto a = *pool.allocate(), b = *pool.allocate();
  const std::vector<int32_t> ta{1}, tb{2};
  pool.publish(a, BlockPool::chain_hash(0, ta), 0, ta);
  pool.publish(b, BlockPool::chain_hash(0, tb), 0, tb);
  pool.release(a);  // a is older in the LRU
  pool.release(b);
  auto c = pool.allocate();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(*c, a);
  EXPECT_FALSE(pool.acquire_cached(BlockPool::chain_hash(0, ta), 0, ta).has_value());
  EXPECT_TRUE(pool.acquire_cached(BlockPool::chain_hash(0, tb), 0, tb).has_value());
}

TEST(BlockPool, ReleaseAllPutsTheTailFirstInLineForEviction) {
  BlockPool pool(2, 1, true);
  auto head = *pool.allocate(), tail = *pool.allocate();
  const std::vector<int32_t> t1{1}, t2{2};
  const uint64_t h1 = BlockPool::chain_hash(0, t1), h2 = BlockPool::chain_hash(h1, t2);
  pool.publish(head, h1, 0, t1);
  pool.publish(tail, h2, h1, t2);
  const std::vector<int32_t> table{head, tail};
  pool.release_all(table);
  EXPECT_EQ(*pool.allocate(), tail);
}

TEST(BlockPool, DuplicatePublishKeepsTheFirstBlock) {
  BlockPool pool(2, 1, true);
  auto a = *pool.allocate(), b = *pool.allocate();
  const std::vector<int32_t> t{3};
  const uint64_t h = BlockPool::chain_hash(0, t);
  pool.publish(a, h, 0, t);
  pool.publish(b, h, 0, t);
  EXPECT_TRUE(pool.is_indexed(a));
  EXPECT_FALSE(pool.is_indexed(b));
  pool.release(b);  // unindexed: straight to the free list
  EXPECT_EQ(pool.num_cached_unreferenced(), 0);
}

}  // namespace
}  // namespace tgi::engine
