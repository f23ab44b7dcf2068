// The progress reporter under a hand-moved clock and a recording sink: what each style writes,
// when it writes, and that concurrent advance() calls add up.
#include "core/progress.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <thread>
#include <vector>

namespace tgi {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

// A reporter's world: the time it reads and what it wrote.
struct Harness {
  double now = 100.0;
  std::vector<std::string> writes;

  ProgressOptions options(ProgressStyle style, ProgressUnit unit = ProgressUnit::bytes()) {
    ProgressOptions o;
    o.unit = std::move(unit);
    o.style = style;
    o.write = [this](std::string_view text) { writes.emplace_back(text); };
    o.now_seconds = [this] { return now; };
    o.timestamp = [] { return std::string("2026-01-02T03:04:05.000006Z"); };
    return o;
  }
};

TEST(HumanUnits, BytesKeepThreeSignificantDigits) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(12.5 * 1024), "12.5 KiB");
  EXPECT_EQ(format_bytes(1.09 * 1024 * 1024 * 1024), "1.09 GiB");
  EXPECT_EQ(format_bytes(1000.0 * 1024), "0.98 MiB");  // never "1000 KiB"
  EXPECT_EQ(format_bytes(300.0 * kMiB), "300 MiB");
}

TEST(HumanUnits, DurationsAndQuantities) {
  EXPECT_EQ(format_duration(0.42), "0.4s");
  EXPECT_EQ(format_duration(12.3), "12s");
  EXPECT_EQ(format_duration(65), "1m05s");
  EXPECT_EQ(format_duration(2 * 3600 + 3 * 60 + 10), "2h03m");
  EXPECT_EQ(format_quantity(512), "512");
  EXPECT_EQ(format_quantity(135e6), "135M");
  EXPECT_EQ(format_quantity(1.1e9), "1.10B");
  EXPECT_EQ(format_quantity(12.5e3), "12.5K");
  EXPECT_EQ(format_quantity(999.7e6), "1.00B");
}

TEST(ProgressBar, RedrawsInPlaceAtMostTenTimesASecond) {
  Harness h;
  Progress progress("Loading weights", 100 * kMiB, h.options(ProgressStyle::kBar));
  h.now += 1.0;
  progress.advance(25 * kMiB);  // first draw: at once
  ASSERT_EQ(h.writes.size(), 1u);
  EXPECT_EQ(h.writes[0],
            "\rLoading weights [#######.......................]  25%  25.0 MiB/100 MiB  25.0 MiB/s  ETA "
            "3.0s\x1b[K");
  h.now += 0.05;
  progress.advance(kMiB);  // too soon after the last draw
  EXPECT_EQ(h.writes.size(), 1u);
  h.now += 0.06;
  progress.advance(kMiB);
  EXPECT_EQ(h.writes.size(), 2u);
  EXPECT_EQ(h.writes[1].rfind("\r", 0), 0u);
  EXPECT_EQ(h.writes[1].find('\n'), std::string::npos);  // still the same line
}

TEST(ProgressBar, FinishDrawsTheFullBarAndEndsTheLine) {
  Harness h;
  Progress progress("Converting", 4, h.options(ProgressStyle::kBar, ProgressUnit::count("tensors")));
  h.now += 2.0;
  progress.advance(4);
  progress.finish();
  progress.finish();  // once only
  ASSERT_EQ(h.writes.size(), 2u);
  EXPECT_EQ(h.writes[1],
            "\rConverting [##############################] 100%  4 tensors in 2.0s (2.0 tensors/s)\x1b[K\n");
}

TEST(ProgressBar, AbandonEndsAnOpenLineWithoutClaimingCompletion) {
  Harness h;
  {
    Progress progress("Downloading", 10, h.options(ProgressStyle::kBar));
    progress.advance(3);
  }  // destroyed without finish(): the operation failed
  ASSERT_EQ(h.writes.size(), 2u);
  EXPECT_EQ(h.writes[1], "\n");

  Harness quiet;
  { Progress untouched("Downloading", 10, quiet.options(ProgressStyle::kBar)); }
  EXPECT_TRUE(quiet.writes.empty());  // nothing drawn, nothing to end
}

TEST(ProgressLines, AtMostOncePerTenthAndFewSeconds) {
  Harness h;
  Progress progress("Loading weights", 1000,
                    h.options(ProgressStyle::kLines, ProgressUnit::count("tensors")));
  // Fast: a whole tenth within the first seconds writes nothing yet.
  h.now += 1.0;
  progress.advance(150);
  EXPECT_TRUE(h.writes.empty());
  // Three seconds in, the next advance past a new tenth writes a line.
  h.now += 2.5;
  progress.advance(50);
  ASSERT_EQ(h.writes.size(), 1u);
  EXPECT_EQ(h.writes[0], "Loading weights: 20% (200/1000 tensors, 57.1 tensors/s, ETA 14s)\n");
  // Time alone does not write while the tenth is the same.
  h.now += 10.0;
  progress.advance(50);
  EXPECT_EQ(h.writes.size(), 1u);
  // Thirty quiet seconds do, whatever moved.
  h.now += 20.0;
  progress.advance(1);
  EXPECT_EQ(h.writes.size(), 2u);
  progress.advance(749);
  progress.finish();
  ASSERT_EQ(h.writes.size(), 3u);
  EXPECT_EQ(h.writes[2].rfind("Loading weights: done, 1000 tensors in ", 0), 0u) << h.writes[2];
}

TEST(ProgressLines, UnknownTotalWritesEveryTenSeconds) {
  Harness h;
  Progress progress("Downloading config.json", 0, h.options(ProgressStyle::kLines));
  h.now += 9.0;
  progress.advance(2048);
  EXPECT_TRUE(h.writes.empty());
  h.now += 1.0;
  progress.advance(2048);
  ASSERT_EQ(h.writes.size(), 1u);
  EXPECT_EQ(h.writes[0], "Downloading config.json: 4.00 KiB, 410 B/s\n");
}

TEST(ProgressJson, EachLineIsALogShapedObject) {
  Harness h;
  Progress progress("Loading weights", 4 * kMiB, h.options(ProgressStyle::kJson));
  progress.set_detail("2/8 tensors");
  h.now += 4.0;
  progress.advance(2 * kMiB);
  progress.advance(2 * kMiB);  // at once: no line before the closing one
  progress.finish();
  ASSERT_EQ(h.writes.size(), 2u);
  for (const auto& line : h.writes) {
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);  // one object per line
  }
  const auto first = nlohmann::json::parse(h.writes[0]);
  EXPECT_EQ(first["timestamp"], "2026-01-02T03:04:05.000006Z");
  EXPECT_EQ(first["level"], "INFO");
  EXPECT_EQ(first["target"], "tgi::progress");
  EXPECT_EQ(first["fields"]["message"], "Loading weights");
  EXPECT_EQ(first["fields"]["done"], 2 * kMiB);
  EXPECT_EQ(first["fields"]["total"], 4 * kMiB);
  EXPECT_EQ(first["fields"]["unit"], "bytes");
  EXPECT_EQ(first["fields"]["percent"], 50);
  EXPECT_DOUBLE_EQ(first["fields"]["eta_seconds"].get<double>(), 4.0);
  EXPECT_EQ(first["fields"]["detail"], "2/8 tensors");
  EXPECT_EQ(first["fields"]["finished"], false);
  const auto last = nlohmann::json::parse(h.writes[1]);
  EXPECT_EQ(last["fields"]["finished"], true);
  EXPECT_EQ(last["fields"]["percent"], 100);
  EXPECT_TRUE(last["fields"]["eta_seconds"].is_null());
}

TEST(Progress, ResumedPositionDoesNotInflateTheRate) {
  Harness h;
  Progress progress("Downloading", 100 * kMiB, h.options(ProgressStyle::kOff));
  h.now += 1.0;
  progress.update(90 * kMiB);  // 90 MiB were already on disk
  h.now += 2.0;
  progress.update(94 * kMiB);
  const ProgressSnapshot s = progress.snapshot();
  EXPECT_DOUBLE_EQ(s.rate_per_second, 2.0 * kMiB);
  ASSERT_TRUE(s.eta_seconds.has_value());
  EXPECT_DOUBLE_EQ(*s.eta_seconds, 3.0);
  EXPECT_DOUBLE_EQ(s.elapsed_seconds, 3.0);
}

TEST(Progress, OffWritesNothing) {
  Harness h;
  Progress progress("Silent", 10, h.options(ProgressStyle::kOff));
  progress.advance(10);
  progress.finish();
  EXPECT_TRUE(h.writes.empty());
}

TEST(Progress, ConcurrentAdvancesAddUp) {
  Harness h;  // the clock never moves: only the first advance draws
  Progress progress("Loading weights", 0, h.options(ProgressStyle::kBar));
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t)
    workers.emplace_back([&progress] {
      for (int i = 0; i < 10000; ++i) progress.advance(3);
    });
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(progress.snapshot().done, 4u * 10000u * 3u);
  EXPECT_EQ(h.writes.size(), 1u);
}

}  // namespace
}  // namespace tgi
