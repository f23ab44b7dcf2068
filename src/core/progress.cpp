#include "core/progress.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace tgi {

namespace {

std::atomic<bool> g_json_output{false};

// A bar redraw costs a write to the terminal; ten a second is smooth enough and cheap.
constexpr double kBarRedrawSeconds = 0.1;
// A log reader wants to see movement, not a line per percent.
constexpr double kLineGapSeconds = 3.0;
// ... but a slow step (or an unknown total) still shows it is alive.
constexpr double kQuietLineSeconds = 30.0;
constexpr double kUnknownTotalLineSeconds = 10.0;
constexpr int kBarWidth = 30;

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The logs' timestamp format (server/log_format.cpp), so JSON progress lines sort with them.

void write_and_flush(std::FILE* stream, std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stream);
  std::fflush(stream);
}

// 3 significant digits, the way people read sizes: 1.09, 12.5, 135.
std::string three_digits(double value) {
  if (value < 9.995) return fmt::format("{:.2f}", value);
  if (value < 99.95) return fmt::format("{:.1f}", value);
  return fmt::format("{:.0f}", value);
}

std::string amount(const ProgressUnit& unit, uint64_t value) {
  return unit.is_bytes ? format_bytes(static_cast<double>(value)) : std::to_string(value);
}

std::string done_of_total(const ProgressSnapshot& s) {
  if (s.unit.is_bytes)
    return fmt::format("{}/{}", format_bytes(static_cast<double>(s.done)),
                       format_bytes(static_cast<double>(s.total)));
  return fmt::format("{}/{} {}", s.done, s.total, s.unit.noun);
}

std::string done_alone(const ProgressSnapshot& s) {
  return s.unit.is_bytes ? amount(s.unit, s.done) : fmt::format("{} {}", s.done, s.unit.noun);
}

std::string rate(const ProgressSnapshot& s) {
  if (s.unit.is_bytes) return format_bytes(s.rate_per_second) + "/s";
  const double r = s.rate_per_second;
  return fmt::format("{} {}/s", r < 99.95 ? fmt::format("{:.1f}", r) : fmt::format("{:.0f}", r), s.unit.noun);
}

int percent(const ProgressSnapshot& s) {
  if (s.total == 0) return 0;
  return static_cast<int>(
      std::min(100.0, std::floor(100.0 * static_cast<double>(s.done) / static_cast<double>(s.total))));
}

// The numbers after the label, shared by the bar and the plain line.
std::vector<std::string> running_parts(const ProgressSnapshot& s) {
  std::vector<std::string> parts;
  parts.push_back(s.total > 0 ? done_of_total(s) : done_alone(s));
  if (s.rate_per_second > 0) parts.push_back(rate(s));
  if (s.eta_seconds) parts.push_back("ETA " + format_duration(*s.eta_seconds));
  parts.push_back(s.detail);
  return parts;
}

std::string finished_summary(const ProgressSnapshot& s) {
  std::string out = fmt::format("{} in {}", done_alone(s), format_duration(s.elapsed_seconds));
  if (s.rate_per_second > 0) out += fmt::format(" ({})", rate(s));
  return out;
}

}  // namespace

ProgressStyle default_progress_style() {
  if (g_json_output.load()) return ProgressStyle::kJson;
  const char* term = std::getenv("TERM");
  const bool dumb = term != nullptr && std::string_view(term) == "dumb";
  return ::isatty(STDERR_FILENO) != 0 && !dumb ? ProgressStyle::kBar : ProgressStyle::kLines;
}

void set_progress_json_output(bool json) {
  g_json_output.store(json);
}

Progress::Progress(std::string label, uint64_t total, ProgressOptions options)
    : label_(std::move(label)), options_(std::move(options)), total_(total) {
  style_ = options_.style.value_or(default_progress_style());
  if (!options_.now_seconds) options_.now_seconds = steady_seconds;
  if (!options_.timestamp)
    options_.timestamp = [] { return utc_timestamp(std::chrono::system_clock::now()); };
  if (!options_.write) {
    std::FILE* stream = style_ == ProgressStyle::kJson ? stdout : stderr;
    options_.write = [stream](std::string_view text) { write_and_flush(stream, text); };
  }
  start_ = options_.now_seconds();
  last_render_ = start_;
  rate_base_time_ = start_;
}

Progress::~Progress() {
  abandon();
}

void Progress::advance(uint64_t n) {
  std::lock_guard lock(mutex_);
  done_ += n;
  maybe_render_locked();
}

void Progress::update(uint64_t done) {
  std::lock_guard lock(mutex_);
  done_ = done;
  if (!positioned_) {
    positioned_ = true;
    rate_base_done_ = done;
    rate_base_time_ = options_.now_seconds();
  }
  maybe_render_locked();
}

void Progress::set_total(uint64_t total) {
  std::lock_guard lock(mutex_);
  total_ = total;
}

void Progress::set_detail(std::string detail) {
  std::lock_guard lock(mutex_);
  detail_ = std::move(detail);
}

void Progress::finish() {
  std::lock_guard lock(mutex_);
  if (ended_) return;
  ended_ = true;
  if (style_ == ProgressStyle::kOff) return;
  const double now = options_.now_seconds();
  ProgressSnapshot s = snapshot_locked(now);
  s.finished = true;
  s.eta_seconds.reset();
  emit_locked(s, now);
}

void Progress::abandon() {
  std::lock_guard lock(mutex_);
  if (ended_) return;
  ended_ = true;
  if (style_ == ProgressStyle::kBar && drawn_) options_.write("\n");
}

ProgressSnapshot Progress::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_locked(options_.now_seconds());
}

ProgressSnapshot Progress::snapshot_locked(double now) const {
  ProgressSnapshot s;
  s.label = label_;
  s.unit = options_.unit;
  s.done = done_;
  s.total = total_;
  s.detail = detail_;
  s.finished = ended_;
  s.elapsed_seconds = std::max(0.0, now - start_);
  const double span = now - rate_base_time_;
  if (span > 0 && done_ >= rate_base_done_)
    s.rate_per_second = static_cast<double>(done_ - rate_base_done_) / span;
  if (total_ > 0 && done_ < total_ && s.rate_per_second > 0)
    s.eta_seconds = static_cast<double>(total_ - done_) / s.rate_per_second;
  return s;
}

void Progress::maybe_render_locked() {
  if (ended_ || style_ == ProgressStyle::kOff) return;
  const double now = options_.now_seconds();
  const double quiet = now - last_render_;
  bool due = false;
  if (style_ == ProgressStyle::kBar) {
    due = !drawn_ || quiet >= kBarRedrawSeconds;
  } else if (total_ == 0) {
    due = quiet >= kUnknownTotalLineSeconds;
  } else {
    const int tenth = static_cast<int>(std::min<uint64_t>(10, done_ * 10 / total_));
    due = (tenth > last_tenth_ && quiet >= kLineGapSeconds) || quiet >= kQuietLineSeconds;
  }
  if (due) emit_locked(snapshot_locked(now), now);
}

void Progress::emit_locked(const ProgressSnapshot& s, double now) {
  switch (style_) {
    case ProgressStyle::kBar:
      // "\x1b[K" clears what a longer previous line left to the right.
      options_.write("\r" + progress_bar_line(s) + "\x1b[K" + (s.finished ? "\n" : ""));
      break;
    case ProgressStyle::kLines:
      options_.write(progress_plain_line(s) + "\n");
      break;
    case ProgressStyle::kJson:
      options_.write(progress_json_line(s, options_.timestamp()) + "\n");
      break;
    case ProgressStyle::kOff:
      return;
  }
  drawn_ = true;
  last_render_ = now;
  if (total_ > 0) last_tenth_ = static_cast<int>(std::min<uint64_t>(10, done_ * 10 / total_));
}

std::string progress_bar_line(const ProgressSnapshot& s) {
  std::string line = s.label;
  if (s.total > 0) {
    const int shown = s.finished ? 100 : percent(s);
    const int filled = shown * kBarWidth / 100;
    line +=
        fmt::format(" [{}{}] {:3}%", std::string(filled, '#'), std::string(kBarWidth - filled, '.'), shown);
  }
  if (s.finished) return line + "  " + finished_summary(s);
  return line + "  " + join_nonempty(running_parts(s), "  ");
}

std::string progress_plain_line(const ProgressSnapshot& s) {
  if (s.finished) return fmt::format("{}: done, {}", s.label, finished_summary(s));
  std::vector<std::string> parts = running_parts(s);
  if (s.total == 0) return fmt::format("{}: {}", s.label, join_nonempty(parts, ", "));
  return fmt::format("{}: {}% ({})", s.label, percent(s), join_nonempty(parts, ", "));
}

std::string progress_json_line(const ProgressSnapshot& s, const std::string& timestamp) {
  nlohmann::ordered_json fields;
  fields["message"] = s.label;
  fields["done"] = s.done;
  fields["total"] = s.total > 0 ? nlohmann::ordered_json(s.total) : nlohmann::ordered_json(nullptr);
  fields["unit"] = s.unit.is_bytes ? "bytes" : s.unit.noun;
  fields["percent"] =
      s.total > 0 ? nlohmann::ordered_json(s.finished ? 100 : percent(s)) : nlohmann::ordered_json(nullptr);
  fields["elapsed_seconds"] = s.elapsed_seconds;
  fields["rate_per_second"] = s.rate_per_second;
  fields["eta_seconds"] =
      s.eta_seconds ? nlohmann::ordered_json(*s.eta_seconds) : nlohmann::ordered_json(nullptr);
  if (!s.detail.empty()) fields["detail"] = s.detail;
  fields["finished"] = s.finished;
  nlohmann::ordered_json line;
  line["timestamp"] = timestamp;
  line["level"] = "INFO";
  line["fields"] = std::move(fields);
  line["target"] = "tgi::progress";
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 999.5) return fmt::format("{:.0f} B", std::max(0.0, bytes));
  double value = bytes / 1024.0;
  size_t unit = 0;
  while (value >= 999.5 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  return three_digits(value) + " " + kUnits[unit];
}

std::string format_duration(double seconds) {
  seconds = std::max(0.0, seconds);
  if (seconds < 9.95) return fmt::format("{:.1f}s", seconds);
  const auto whole = static_cast<int64_t>(std::llround(seconds));
  if (whole < 60) return fmt::format("{}s", whole);
  if (whole < 3600) return fmt::format("{}m{:02}s", whole / 60, whole % 60);
  return fmt::format("{}h{:02}m", whole / 3600, whole % 3600 / 60);
}

std::string format_quantity(double count) {
  static constexpr const char* kSuffixes[] = {"K", "M", "B", "T"};
  if (count < 999.5) return fmt::format("{:.0f}", std::max(0.0, count));
  double value = count / 1000.0;
  size_t suffix = 0;
  while (value >= 999.5 && suffix + 1 < std::size(kSuffixes)) {
    value /= 1000.0;
    ++suffix;
  }
  return three_digits(value) + kSuffixes[suffix];
}

std::string utc_timestamp(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

std::string join_nonempty(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

}  // namespace tgi
