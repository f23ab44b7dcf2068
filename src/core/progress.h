#pragma once
// Progress of a long operation (a download, a conversion, loading weights, a benchmark) for the
// person waiting on it. Three renderings, chosen once per process (default_progress_style):
//   kBar    stderr is a terminal: one line redrawn in place, at most every 100 ms
//             Loading weights [#########.....................]  31%  1.02 GiB/3.30 GiB  512 MiB/s  ETA 4.6s
//   kLines  stderr is a file or a pipe (CI, docker logs): a plain line at most once per 10% and
//           once per 3 s (and every 30 s however little moved), then one closing line
//             Loading weights: 31% (1.02 GiB/3.30 GiB, 512 MiB/s, ETA 4.6s)
//             Loading weights: done, 3.30 GiB in 6.4s (528 MiB/s)
//   kJson   `serve --json-output`: the kLines schedule, each line one JSON object shaped like the
//           JSON logs ({"timestamp","level","fields":{"message":label,"done",...},"target"}), on stdout
//           beside them.
// Thread-safe: several loader threads may advance() one reporter at once.
//
// Typical use (a loader):
//   tgi::Progress progress("Loading weights", total_bytes);  // the clock starts here
//   ... progress.advance(tensor_bytes);                     // from any thread
//   progress.finish();                                      // the closing line
// A reporter destroyed without finish() (the operation failed) ends its bar's line and says nothing
// more, so an error message starts on a fresh line.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tgi {

// What done/total count: bytes ("1.02 GiB", "512 MiB/s") or things ("12/291 tensors", "3.4 tensors/s").
struct ProgressUnit {
  bool is_bytes = true;
  std::string noun;  // plural, for counts

  static ProgressUnit bytes() { return {}; }
  static ProgressUnit count(std::string plural_noun) { return {false, std::move(plural_noun)}; }
};

enum class ProgressStyle { kBar, kLines, kJson, kOff };

struct ProgressOptions {
  ProgressUnit unit = ProgressUnit::bytes();
  std::optional<ProgressStyle> style;           // default: default_progress_style()
  std::function<void(std::string_view)> write;  // default: stderr (kJson: stdout), flushed
  std::function<double()> now_seconds;          // monotonic; default: std::chrono::steady_clock
  std::function<std::string()> timestamp;       // kJson's "timestamp"; default: UTC now, like the logs
};

// Where a reporter stands; what every rendering is made from.
struct ProgressSnapshot {
  std::string label;
  ProgressUnit unit;
  uint64_t done = 0;
  uint64_t total = 0;  // 0: unknown
  double elapsed_seconds = 0;
  double rate_per_second = 0;  // since the first position seen (a resumed download counts from there)
  std::optional<double> eta_seconds;
  std::string detail;  // e.g. "12/291 tensors"
  bool finished = false;
};

class Progress {
 public:
  // `total` may be 0 (unknown) and set later with set_total.
  Progress(std::string label, uint64_t total, ProgressOptions options = {});
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(uint64_t n);
  // An absolute position (a download's byte count). The first one is where the operation resumed:
  // the rate counts only what came after it.
  void update(uint64_t done);
  void set_total(uint64_t total);
  void set_detail(std::string detail);
  // The operation completed: the closing line. Later calls do nothing.
  void finish();
  // The operation stopped short: ends a bar's line, prints no closing line. Later calls do nothing.
  void abandon();

  ProgressSnapshot snapshot() const;

 private:
  ProgressSnapshot snapshot_locked(double now) const;
  void maybe_render_locked();
  void emit_locked(const ProgressSnapshot& snapshot, double now);

  std::string label_;
  ProgressOptions options_;
  ProgressStyle style_;
  mutable std::mutex mutex_;
  uint64_t done_ = 0;
  uint64_t total_ = 0;
  std::string detail_;
  double start_ = 0;
  bool positioned_ = false;  // an update() has set where the rate counts from
  uint64_t rate_base_done_ = 0;
  double rate_base_time_ = 0;
  bool drawn_ = false;  // something was rendered (a bar line is open)
  double last_render_ = 0;
  int last_tenth_ = 0;  // kLines/kJson: the 10% step of the last line
  bool ended_ = false;
};

// kJson once set_progress_json_output(true) (serve --json-output does it), else kBar when stderr is
// a terminal, else kLines.
ProgressStyle default_progress_style();
void set_progress_json_output(bool json);

// The renderings, for tests and for callers with their own sink.
std::string progress_bar_line(const ProgressSnapshot& snapshot);  // without "\r" and clearing
std::string progress_plain_line(const ProgressSnapshot& snapshot);
std::string progress_json_line(const ProgressSnapshot& snapshot, const std::string& timestamp);

// Human units (also used by the server's start-up summary).
std::string format_bytes(double bytes);       // "512 B", "12.5 KiB", "1.09 GiB": 3 significant digits
std::string format_duration(double seconds);  // "0.4s", "12s", "1m05s", "2h03m"
std::string format_quantity(double count);    // "512", "12.5K", "135M", "1.10B"

// "2026-12-07T09:19:11.123456Z", as the logs stamp their lines.
std::string utc_timestamp(std::chrono::system_clock::time_point time);
// The non-empty parts, `separator` between them.
std::string join_nonempty(const std::vector<std::string>& parts, std::string_view separator);

}  // namespace tgi
