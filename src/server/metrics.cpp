#include "server/metrics.h"

#include <algorithm>

#include <fmt/format.h>

namespace tgi::server {

std::vector<double> duration_buckets() {
  std::vector<double> bounds;
  double value = 0.0001;
  for (int k = 0; k < 35; ++k) {
    value *= 1.5;  // multiplied step by step, as TGI does, so the printed bounds match
    bounds.push_back(value);
  }
  return bounds;
}

namespace {

std::vector<double> scaled_buckets(int64_t max) {
  std::vector<double> bounds;
  for (int k = 1; k <= 100; ++k) bounds.push_back(static_cast<double>(max) / 100.0 * k);
  return bounds;
}

std::vector<double> batch_size_buckets() {
  std::vector<double> bounds;
  for (int k = 1; k <= 1024; ++k) bounds.push_back(k);
  return bounds;
}

void type_line(std::string& out, const char* name, const char* type) {
  out += fmt::format("# TYPE {} {}\n", name, type);
}

void sample(std::string& out, const std::string& name, const std::string& labels, double value) {
  out += labels.empty() ? fmt::format("{} {}\n", name, value) : fmt::format("{}{{{}}} {}\n", name, labels, value);
}

// A metric with one unlabelled sample: its TYPE line and the value.
void single(std::string& out, const char* name, const char* type, double value) {
  type_line(out, name, type);
  sample(out, name, "", value);
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}

void Histogram::observe(double value) {
  std::lock_guard lock(mutex_);
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  if (it != bounds_.end()) ++counts_[static_cast<size_t>(it - bounds_.begin())];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& labels) const {
  std::lock_guard lock(mutex_);
  const std::string prefix = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{{}le=\"+Inf\"}} {}\n", name, prefix, count_);
  sample(out, name + "_sum", labels, sum_);
  sample(out, name + "_count", labels, static_cast<double>(count_));
}

void Summary::observe(double value) {
  std::lock_guard lock(mutex_);
  if (window_.size() < kWindow) {
    window_.push_back(value);
  } else {
    window_[next_] = value;
    next_ = (next_ + 1) % kWindow;
  }
  sum_ += value;
  ++count_;
}

void Summary::render(std::string& out, const std::string& name) const {
  std::vector<double> sorted;
  double sum = 0;
  uint64_t count = 0;
  {
    std::lock_guard lock(mutex_);
    sorted = window_;
    sum = sum_;
    count = count_;
  }
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [label, q] : {std::pair{"0", 0.0},
                                 {"0.5", 0.5},
                                 {"0.9", 0.9},
                                 {"0.95", 0.95},
                                 {"0.99", 0.99},
                                 {"0.999", 0.999},
                                 {"1", 1.0}}) {
    // Nearest rank; an empty window reports 0 as metrics-exporter-prometheus does.
    const double value =
        sorted.empty()
            ? 0.0
            : sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * (sorted.size() - 1) + 0.5))];
    sample(out, name, fmt::format("quantile=\"{}\"", label), value);
  }
  sample(out, name + "_sum", "", sum);
  sample(out, name + "_count", "", static_cast<double>(count));
}

Metrics::Metrics(int64_t max_input_tokens, int64_t max_total_tokens)
    : request_duration(duration_buckets()),
      validation_duration(duration_buckets()),
      queue_duration(duration_buckets()),
      inference_duration(duration_buckets()),
      mean_time_per_token_duration(duration_buckets()),
      input_length(scaled_buckets(max_input_tokens)),
      max_new_tokens(scaled_buckets(max_total_tokens)),
      generated_tokens(scaled_buckets(max_total_tokens)),
      batch_next_size(batch_size_buckets()) {
  for (const char* label : {"overloaded", "validation", "template", "incomplete", "generation", "dropped"})
    failures_[label] = 0;
}

void Metrics::count_failure(const std::string& label) {
  std::lock_guard lock(failures_mutex_);
  ++failures_[label];
}

std::string Metrics::render(const EngineCounters& engine) const {
  std::string out;
  type_line(out, "tgi_request_count", "counter");
  sample(out, "tgi_request_count", "", static_cast<double>(request_count.load()));
  type_line(out, "tgi_request_success", "counter");
  sample(out, "tgi_request_success", "", static_cast<double>(request_success.load()));
  type_line(out, "tgi_request_failure", "counter");
  {
    std::lock_guard lock(failures_mutex_);
    for (const auto& [label, value] : failures_)
      sample(out, "tgi_request_failure", fmt::format("err=\"{}\"", label), static_cast<double>(value));
  }
  const std::pair<const char*, const Histogram*> request_histograms[] = {
      {"tgi_request_duration", &request_duration},
      {"tgi_request_validation_duration", &validation_duration},
      {"tgi_request_queue_duration", &queue_duration},
      {"tgi_request_inference_duration", &inference_duration},
      {"tgi_request_mean_time_per_token_duration", &mean_time_per_token_duration},
      {"tgi_request_input_length", &input_length},
      {"tgi_request_max_new_tokens", &max_new_tokens},
      {"tgi_request_generated_tokens", &generated_tokens},
      {"tgi_batch_next_size", &batch_next_size},
  };
  for (const auto& [name, histogram] : request_histograms) {
    type_line(out, name, "histogram");
    histogram->render(out, name, "");
  }
  type_line(out, "tgi_request_skipped_tokens", "summary");
  skipped_tokens.render(out, "tgi_request_skipped_tokens");

  single(out, "tgi_queue_size", "gauge", static_cast<double>(engine.queue_size));
  single(out, "tgi_batch_current_size", "gauge", static_cast<double>(engine.running_requests));
  single(out, "tgi_batch_current_max_tokens", "gauge", static_cast<double>(engine.running_max_tokens));
  single(out, "tgi_batch_max_total_tokens", "gauge", static_cast<double>(engine.kv_budget_tokens));
  type_line(out, "tgi_batch_concat", "counter");
  for (const char* reason : {"backpressure", "wait_exceeded", "chunking"})
    sample(out, "tgi_batch_concat", fmt::format("reason=\"{}\"", reason), 0);
  // One ragged step serves prefill and decode rows together; it is counted as a decode step.
  type_line(out, "tgi_batch_inference_count", "counter");
  sample(out, "tgi_batch_inference_count", "method=\"prefill\"", 0);
  sample(out, "tgi_batch_inference_count", "method=\"decode\"", static_cast<double>(engine.steps));
  type_line(out, "tgi_batch_inference_success", "counter");
  sample(out, "tgi_batch_inference_success", "method=\"prefill\"", 0);
  sample(out, "tgi_batch_inference_success", "method=\"decode\"",
         static_cast<double>(engine.steps - engine.forward_failures));
  type_line(out, "tgi_batch_inference_failure", "counter");
  sample(out, "tgi_batch_inference_failure", "method=\"prefill\"", 0);
  sample(out, "tgi_batch_inference_failure", "method=\"decode\"", static_cast<double>(engine.forward_failures));
  static const Histogram empty_duration(duration_buckets());
  for (const char* name : {"tgi_batch_inference_duration", "tgi_batch_forward_duration", "tgi_batch_decode_duration",
                           "tgi_batch_filter_duration", "tgi_batch_concat_duration"}) {
    type_line(out, name, "histogram");
    empty_duration.render(out, name, "method=\"decode\"");
  }

  // Beyond TGI: the paged KV cache and the prefix cache.
  single(out, "tgi_kv_cache_blocks_total", "gauge", static_cast<double>(engine.kv_blocks_total));
  single(out, "tgi_kv_cache_blocks_used", "gauge", static_cast<double>(engine.kv_blocks_used));
  single(
      out, "tgi_kv_cache_usage_ratio", "gauge",
      engine.kv_blocks_total > 0 ? static_cast<double>(engine.kv_blocks_used) / engine.kv_blocks_total : 0.0);
  single(out, "tgi_prefix_cache_hit_tokens", "counter", static_cast<double>(engine.prefix_cache_hit_tokens));
  single(out, "tgi_preemptions", "counter", static_cast<double>(engine.preemptions));
  // Speculative decoding: proposals verified and kept. Acceptance = accepted / proposed; tokens
  // per verifying step = 1 + accepted / steps.
  single(out, "tgi_speculative_steps", "counter", static_cast<double>(engine.speculative_steps));
  single(out, "tgi_speculative_proposed_tokens", "counter",
         static_cast<double>(engine.speculative_proposed_tokens));
  single(out, "tgi_speculative_accepted_tokens", "counter",
         static_cast<double>(engine.speculative_accepted_tokens));
  single(out, "tgi_speculative_acceptance_ratio", "gauge",
         engine.speculative_proposed_tokens > 0
             ? static_cast<double>(engine.speculative_accepted_tokens) / engine.speculative_proposed_tokens
             : 0.0);
  single(out, "tgi_speculative_tokens_per_step", "gauge",
         engine.speculative_steps > 0
             ? 1.0 + static_cast<double>(engine.speculative_accepted_tokens) / engine.speculative_steps
             : 0.0);
  return out;
}

}  // namespace tgi::server
