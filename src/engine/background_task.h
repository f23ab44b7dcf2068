#pragma once
// One task at a time on a thread of its own, started by the engine loop and joined by it: the
// engine computes grammar masks there while the forward pass runs on the compute pool. The thread
// lives as long as the object, so starting a task allocates nothing and creates no thread.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace tgi::engine {

class BackgroundTask {
 public:
  BackgroundTask();
  ~BackgroundTask();
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;

  // Runs `task` on the background thread. The previous task must have been waited for. A task
  // that throws is swallowed: its results are simply not used (see wait()).
  void start(std::function<void()> task);
  // Blocks until the started task has finished; true when it returned normally. Without a
  // started task, returns true at once.
  bool wait();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::function<void()> task_;
  bool pending_ = false;  // started and not finished
  bool failed_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tgi::engine
