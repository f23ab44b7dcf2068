#include "engine/background_task.h"

namespace tgi::engine {

BackgroundTask::BackgroundTask() : thread_([this] { run(); }) {}

BackgroundTask::~BackgroundTask() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BackgroundTask::start(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    task_ = std::move(task);
    pending_ = true;
    failed_ = false;
  }
  cv_.notify_all();
}

bool BackgroundTask::wait() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return !pending_; });
  return !failed_;
}

void BackgroundTask::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || (pending_ && task_); });
    if (stopping_) return;
    std::function<void()> task = std::move(task_);
    task_ = nullptr;
    lock.unlock();
    bool ok = true;
    try {
      task();
    } catch (...) {
      ok = false;
    }
    lock.lock();
    failed_ = !ok;
    pending_ = false;
    cv_.notify_all();
  }
}

}  // namespace tgi::engine
