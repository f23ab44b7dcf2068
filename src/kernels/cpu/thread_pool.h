#pragma once
// A persistent pool of worker threads for the forward pass. Threads are created once; each
// parallel region costs one generation bump and a barrier, never a thread start (a new thread
// waits ~1 ms before it runs on a loaded machine). Workers spin for the next region for up to
// 0.5 ms (the gap between two decode steps of a serving loop fits), yielding the core every
// microsecond or so to whatever else is runnable, then sleep on a futex (std::atomic::wait) so
// an idle server burns no CPU.
//
// Not reentrant: parallel_for must be called from one thread at a time and not from inside a task.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace tgi::kernels {

class ThreadPool {
 public:
  // num_threads counts the calling thread; 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(int num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  // Calls task(thread_index, num_threads) on every thread (the caller is thread 0) and returns
  // when all have finished.
  template <typename Task>
  void run_on_all(Task&& task) {
    run_raw([](void* ctx, int t, int n) { (*static_cast<Task*>(ctx))(t, n); }, &task);
  }

  // Splits [0, n) into num_threads contiguous ranges and calls body(begin, end) for each non-empty
  // one. The split depends only on n and the thread count, so results are reproducible.
  template <typename Body>
  void parallel_for(int64_t n, Body&& body) {
    if (n <= 0) return;
    if (num_threads_ == 1 || n == 1) {
      body(int64_t{0}, n);
      return;
    }
    run_on_all([&](int t, int nt) {
      const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
      if (begin < end) body(begin, end);
    });
  }

  // Hands [0, n) out in chunks, first come first served, each chunk a share of what is left
  // (never below min_chunk): items of uneven cost (causal attention rows) or a thread slowed by
  // the host (shared cores) no longer leave the others waiting at the barrier, and the last
  // chunks are small so all threads finish together. Which thread runs an item must not change
  // its result: use it only where items are computed independently.
  template <typename Body>
  void parallel_for_dynamic(int64_t n, int64_t min_chunk, Body&& body) {
    if (n <= 0) return;
    if (num_threads_ == 1 || n <= min_chunk) {
      body(int64_t{0}, n);
      return;
    }
    std::atomic<int64_t> next{0};
    const int64_t divisor = 2 * int64_t{num_threads_};
    run_on_all([&](int, int) {
      int64_t begin = next.load(std::memory_order_relaxed);
      while (begin < n) {
        const int64_t share = (n - begin) / divisor;
        const int64_t end = std::min(n, begin + std::max(min_chunk, share));
        if (next.compare_exchange_weak(begin, end, std::memory_order_relaxed)) {
          body(begin, end);
          begin = next.load(std::memory_order_relaxed);
        }
      }
    });
  }

 private:
  using RawTask = void (*)(void*, int, int);
  void run_raw(RawTask fn, void* ctx);
  void worker_loop(int index);

  int num_threads_ = 1;
  std::vector<std::thread> workers_;
  RawTask task_ = nullptr;
  void* task_ctx_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace tgi::kernels
