#include "kernels/cpu/thread_pool.h"

#include <immintrin.h>
#include <sched.h>

#include <chrono>

namespace tgi::kernels {
namespace {

// How long a waiting thread spins before it sleeps on the futex: long enough to bridge the gap
// between two ops of a forward and the gap between two decode steps of a serving loop (sampling
// and events, ~0.1 ms), so neither pays a futex wake-up (tens of microseconds, more on a busy
// VM); short enough that an idle server stops burning a core at once. Counted in time, not in
// pause instructions: one pause takes ~10 to ~140 cycles depending on the CPU.
constexpr std::chrono::microseconds kSpinBudget{500};
constexpr int kPausesPerCheck = 32;  // ~1 µs of pause between clock reads and yields

// Spins until `done()` holds or the budget is spent; returns done(). The spin yields the core
// every microsecond or so: when the cores are oversubscribed (more pool threads than cores, other
// processes, the HTTP threads of a server) the thread we wait for may be queued behind us, and a
// spin that held the core would make it wait out our whole budget. With nothing else runnable,
// sched_yield returns at once.
template <typename Done>
bool spin_until(Done done) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + kSpinBudget;
  while (true) {
    for (int i = 0; i < kPausesPerCheck; ++i) {
      if (done()) return true;
      _mm_pause();
    }
    if (Clock::now() >= deadline) return done();
    sched_yield();
  }
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = static_cast<int>(std::thread::hardware_concurrency());
  num_threads_ = num_threads < 1 ? 1 : num_threads;
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::run_raw(RawTask fn, void* ctx) {
  if (num_threads_ == 1) {
    fn(ctx, 0, 1);
    return;
  }
  task_ = fn;
  task_ctx_ = ctx;
  pending_.store(num_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);  // publishes task_ / task_ctx_
  generation_.notify_all();
  fn(ctx, 0, num_threads_);
  auto all_done = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  while (!spin_until(all_done)) {
    const int left = pending_.load(std::memory_order_acquire);
    if (left != 0) pending_.wait(left, std::memory_order_acquire);
  }
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  while (true) {
    auto next_region = [&] { return generation_.load(std::memory_order_acquire) != seen; };
    while (!spin_until(next_region)) generation_.wait(seen, std::memory_order_acquire);
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    task_(task_ctx_, index, num_threads_);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

}  // namespace tgi::kernels
