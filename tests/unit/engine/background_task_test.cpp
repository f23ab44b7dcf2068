#include "engine/background_task.h"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace tgi::engine {
namespace {

TEST(BackgroundTask, RunsEachTaskOnAnotherThreadAndWaitJoinsIt) {
  BackgroundTask task;
  EXPECT_TRUE(task.wait());  // nothing started
  for (int i = 0; i < 100; ++i) {
    std::atomic<int> value{0};
    std::thread::id ran_on;
    task.start([&] {
      ran_on = std::this_thread::get_id();
      value = i + 1;
    });
    EXPECT_TRUE(task.wait());
    EXPECT_EQ(value.load(), i + 1);
    EXPECT_NE(ran_on, std::this_thread::get_id());
  }
}

TEST(BackgroundTask, AThrowingTaskIsReportedAndTheNextOneStillRuns) {
  BackgroundTask task;
  task.start([] { throw std::runtime_error("boom"); });
  EXPECT_FALSE(task.wait());
  bool ran = false;
  task.start([&] { ran = true; });
  EXPECT_TRUE(task.wait());
  EXPECT_TRUE(ran);
}

TEST(BackgroundTask, DestroyedWithoutATaskOrAfterOne) {
  { BackgroundTask idle; }
  BackgroundTask used;
  used.start([] {});
  used.wait();
}

}  // namespace
}  // namespace tgi::engine
