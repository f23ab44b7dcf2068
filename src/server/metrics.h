#pragma once
// Prometheus exposition of TGI's metrics (spec §4: names, types, labels and buckets exactly as
// metrics-exporter-prometheus renders them) plus engine gauges TGI does not have (KV usage,
// prefix-cache hits, preemptions). Thread-safe: handlers record from any thread.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "server/backend.h"

namespace tgi::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  void render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> counts_;  // per bound, non-cumulative
  double sum_ = 0;
  uint64_t count_ = 0;
};

// A Prometheus summary over a rolling window of the latest observations (quantiles) plus the
// running sum and count, as metrics-exporter-prometheus renders TGI's summaries.
class Summary {
 public:
  static constexpr size_t kWindow = 4096;
  void observe(double value);
  void render(std::string& out, const std::string& name) const;

 private:
  mutable std::mutex mutex_;
  std::vector<double> window_;  // ring buffer of the latest kWindow observations
  size_t next_ = 0;
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics(int64_t max_input_tokens, int64_t max_total_tokens);

  std::atomic<int64_t> request_count{0};
  std::atomic<int64_t> request_success{0};
  void count_failure(const std::string& label);  // overloaded|validation|template|incomplete|generation|dropped

  Histogram request_duration, validation_duration, queue_duration, inference_duration,
      mean_time_per_token_duration, input_length, max_new_tokens, generated_tokens, batch_next_size;
  Summary skipped_tokens;  // per request: generated tokens that were accepted speculative proposals

  std::string render(const EngineCounters& engine) const;

 private:
  mutable std::mutex failures_mutex_;
  std::map<std::string, int64_t> failures_;
};

std::vector<double> duration_buckets();  // 0.0001·1.5^k, k = 1..35

}  // namespace tgi::server
