#pragma once
// Collects one request's events from the engine thread and lets a test wait for its end.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "engine/engine.h"

namespace tgi::engine::testing {

class EventCollector {
 public:
  EventSink sink() {
    return [this](TokenEvent&& e) {
      std::lock_guard lock(mutex_);
      const bool final_event = e.kind == TokenEvent::Kind::kError ||
                               (e.kind == TokenEvent::Kind::kEnd && e.best_of_winner);
      events_.push_back(std::move(e));
      if (final_event) done_ = true;
      cv_.notify_all();
    };
  }
  // Waits for the request's last event (generous bound: a hang fails instead of blocking CI).
  bool wait() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return done_; });
  }
  bool wait_for_tokens(size_t n) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return done_ || tokens_locked() >= n; });
  }
  std::vector<TokenEvent> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<int32_t> token_ids(int32_t candidate = 0) {
    std::lock_guard lock(mutex_);
    std::vector<int32_t> ids;
    for (const auto& e : events_)
      if (e.kind == TokenEvent::Kind::kToken && e.candidate == candidate) ids.push_back(e.token.id);
    return ids;
  }
  const TokenEvent* last() {
    std::lock_guard lock(mutex_);
    return events_.empty() ? nullptr : &events_.back();
  }

 private:
  size_t tokens_locked() const {
    size_t n = 0;
    for (const auto& e : events_) n += e.kind == TokenEvent::Kind::kToken;
    return n;
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<TokenEvent> events_;
  bool done_ = false;
};

}  // namespace tgi::engine::testing
