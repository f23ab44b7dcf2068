#include "kernels/cpu/thread_pool.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
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

TEST(ThreadPool, DynamicParallelForVisitsEveryIndexExactlyOnceInDisjointChunks) {
  for (int threads : {1, 2, 5}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 3, 100, 1001}) {
      for (int64_t min_chunk : {1, 7, 200}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int64_t> chunks{0}, too_small{0};
        for (int round = 0; round < 20; ++round)
          pool.parallel_for_dynamic(n, min_chunk, [&](int64_t b, int64_t e) {
            ASSERT_LT(b, e);
            chunks.fetch_add(1);
            if (e - b < min_chunk && e != n) too_small.fetch_add(1);
            for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
          });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 20) << "n=" << n << " i=" << i;
        EXPECT_EQ(too_small.load(), 0) << "only the final chunk may be short of min_chunk";
        if (threads > 1 && n >= 100 && min_chunk == 1) {
          EXPECT_GT(chunks.load(), 20 * threads) << "work is split into more chunks than threads";
        }
      }
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

// The scheduler state (R running, S sleeping, ...) of every thread of this process but the caller.
std::vector<char> other_thread_states() {
  std::vector<char> states;
  const auto self = static_cast<long>(syscall(SYS_gettid));
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    if (std::stol(task.path().filename().string()) == self) continue;
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const size_t name_end = line.rfind(')');  // "tid (name) S ...": the name may hold anything
    if (name_end != std::string::npos && name_end + 2 < line.size()) states.push_back(line[name_end + 2]);
  }
  return states;
}

TEST(ThreadPool, IdleWorkersStopSpinningAndStillWakeForTheNextRegion) {
  ThreadPool pool(3);
  std::atomic<int> calls{0};
  pool.run_on_all([&](int, int) { calls.fetch_add(1); });
  // Past the spin budget the workers sleep on a futex: an idle server burns no CPU.
  bool all_asleep = false;
  for (int poll = 0; poll < 500 && !all_asleep; ++poll) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const std::vector<char> states = other_thread_states();
    all_asleep =
        states.size() == 2 && std::all_of(states.begin(), states.end(), [](char s) { return s == 'S'; });
  }
  EXPECT_TRUE(all_asleep) << "idle workers must not spin forever";
  pool.run_on_all([&](int, int) { calls.fetch_add(1); });
  pool.parallel_for(100, [&](int64_t b, int64_t e) { calls.fetch_add(static_cast<int>(e - b)); });
  EXPECT_EQ(calls.load(), 106);
}

}  // namespace
}  // namespace tgi::kernels
