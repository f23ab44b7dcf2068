#include "kernels/cpu/thread_pool.h"

#include <atomic>
#include <vector>

#include <gtest/gtest.h>

namespace tgi::kernels {
namespace {

TEST(ThreadPool, ParallelForVisitsEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {0, 1, 3, 100, 1001}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      for (int round = 0; round < 50; ++round)
        pool.parallel_for(n, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
        });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 50) << "n=" << n << " i=" << i;
    }
  }
}

TEST(ThreadPool, RunOnAllGivesEachThreadItsIndex) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> seen(4);
  for (int round = 0; round < 1000; ++round)
    pool.run_on_all([&](int t, int n) {
      EXPECT_EQ(n, 4);
      seen[t].fetch_add(1);
    });
  for (auto& s : seen) EXPECT_EQ(s.load(), 1000);
}

}  // namespace
}  // namespace tgi::kernels
