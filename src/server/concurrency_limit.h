#pragma once
// TGI's admission control (--max-concurrent-requests): a permit is try-acquired before validation
// and never waited for; without one the request is answered 429 "Model is overloaded".
#include <atomic>
#include <cstdint>
#include <memory>

namespace tgi::server {

class ConcurrencyLimit {
 public:
  explicit ConcurrencyLimit(int64_t max) : max_(max) {}

  // A held permit; releasing happens when the last copy goes away.
  using Permit = std::shared_ptr<void>;

  Permit try_acquire(int64_t count = 1) {
    int64_t current = in_use_.load();
    do {
      if (current + count > max_) return nullptr;
    } while (!in_use_.compare_exchange_weak(current, current + count));
    return Permit(this, [count](ConcurrencyLimit* limit) { limit->in_use_.fetch_sub(count); });
  }
  int64_t in_use() const { return in_use_.load(); }

 private:
  int64_t max_;
  std::atomic<int64_t> in_use_{0};
};

}  // namespace tgi::server
