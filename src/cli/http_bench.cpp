#include "cli/http_bench.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <latch>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cli/bench_plot.h"
#include "cli/bench_runner.h"
#include "cli/http_stream_client.h"

namespace tgi::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace

std::string error_text(const std::string& body) {
  const auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  std::string text = parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()
                         ? parsed["error"].get<std::string>()
                         : body;
  if (text.size() > 160) text = text.substr(0, 157) + "...";
  return text;
}

namespace {

RequestSample timed_request(HttpStreamClient& client, const std::string& body) {
  RequestSample sample;
  const Clock::time_point start = Clock::now();
  auto response = client.post_stream("/generate_stream", body, [&](const std::string& data) {
    record_stream_event(data, seconds_between(start, Clock::now()), sample);
  });
  sample.e2e_s = seconds_between(start, Clock::now());
  if (!response.ok()) {
    sample.error = "transport: " + response.error().message;
  } else if (response->status != 200) {
    const std::string text = error_text(response->body);
    sample.error = text.empty() ? fmt::format("HTTP {}", response->status)
                                : fmt::format("HTTP {}: {}", response->status, text);
  } else if (sample.error.empty() && !sample.finished) {
    sample.error = response->truncated_event ? "stream error: the stream ended inside an event"
                                             : "stream error: the stream ended without its final event";
  }
  sample.ok = sample.error.empty();
  return sample;
}

LevelStats run_level(const HttpUrl& url, const HttpBenchOptions& options, const std::string& body,
                     int clients) {
  std::vector<std::vector<RequestSample>> samples(static_cast<size_t>(clients));
  std::vector<double> finished_s(static_cast<size_t>(clients), 0.0);
  std::latch connected(clients), go(1);
  Clock::time_point start;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      HttpStreamClient client(url, options.api_key);
      (void)client.connect();  // a failure here is met (and counted) again by the first request
      connected.count_down();
      go.wait();
      for (int r = 0; r < options.requests_per_client; ++r) samples[i].push_back(timed_request(client, body));
      finished_s[i] = seconds_between(start, Clock::now());
    });
  }
  connected.wait();
  start = Clock::now();
  go.count_down();
  for (auto& thread : threads) thread.join();
  std::vector<RequestSample> all;
  for (auto& client_samples : samples)
    std::move(client_samples.begin(), client_samples.end(), std::back_inserter(all));
  return aggregate_level(clients, options.max_new_tokens, all,
                         *std::max_element(finished_s.begin(), finished_s.end()));
}

std::optional<double> percentile_ms(const std::vector<double>& seconds, double q) {
  if (seconds.empty()) return std::nullopt;
  return 1e3 * percentile(seconds, q);
}

nlohmann::ordered_json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

std::string ms_cell(const std::optional<double>& value, int width) {
  return value ? fmt::format("{:>{}.2f}", *value, width) : fmt::format("{:>{}}", "-", width);
}

std::string table_header() {
  return fmt::format("{:>7} {:>8} {:>6} {:>8} {:>9} {:>7} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>9}\n",
                     "clients", "requests", "errors", "tokens", "tok/s", "req/s", "ttft p50", "ttft p90",
                     "ttft p99", "itl p50", "itl p90", "itl p99", "e2e p50");
}

std::string table_row(const LevelStats& l) {
  return fmt::format("{:>7} {:>8} {:>6} {:>8} {:>9.1f} {:>7.2f} {} {} {} {} {} {} {}\n", l.clients,
                     l.requests, l.errors, l.generated_tokens, l.tokens_per_second, l.requests_per_second,
                     ms_cell(l.ttft_p50_ms, 9), ms_cell(l.ttft_p90_ms, 9), ms_cell(l.ttft_p99_ms, 9),
                     ms_cell(l.itl_p50_ms, 8), ms_cell(l.itl_p90_ms, 8), ms_cell(l.itl_p99_ms, 8),
                     ms_cell(l.e2e_p50_ms, 9));
}

}  // namespace

std::string repeated_word_prompt(int tokens) {
  std::string prompt = "hello";
  for (int i = 1; i < tokens; ++i) prompt += " hello";
  return prompt;
}

std::string generate_stream_body(const std::string& prompt, int max_new_tokens) {
  // No do_sample/temperature/top_*: greedy. details off: nothing but the tokens to send.
  const nlohmann::ordered_json body = {
      {"inputs", prompt},
      {"parameters",
       {{"max_new_tokens", max_new_tokens}, {"details", false}, {"decoder_input_details", false}}}};
  return body.dump();
}

void record_stream_event(const std::string& data, double now_s, RequestSample& sample) {
  const auto event = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!event.is_object()) {
    if (sample.error.empty()) sample.error = "stream error: an event that is not a JSON object";
    return;
  }
  if (auto error = event.find("error"); error != event.end()) {
    if (sample.error.empty())
      sample.error = "stream error: " + (error->is_string() ? error->get<std::string>() : error->dump());
    return;
  }
  if (event.contains("token")) {
    if (++sample.tokens == 1) {
      sample.ttft_s = now_s;
    } else {
      sample.itl_s.push_back(now_s - sample.last_token_s);
    }
    sample.last_token_s = now_s;
  }
  if (auto text = event.find("generated_text"); text != event.end() && text->is_string())
    sample.finished = true;
}

LevelStats aggregate_level(int clients, int max_new_tokens, const std::vector<RequestSample>& samples,
                           double wall_s) {
  LevelStats level;
  level.clients = clients;
  level.requests = static_cast<int>(samples.size());
  level.wall_s = wall_s;
  std::vector<double> ttft, itl, e2e;
  for (const RequestSample& s : samples) {
    level.generated_tokens += s.tokens;
    if (!s.ok) {
      ++level.errors;
      ++level.error_counts[s.error];
      continue;
    }
    ++level.successful_requests;
    if (s.tokens < max_new_tokens) ++level.short_requests;
    if (s.tokens > 0) ttft.push_back(s.ttft_s);
    itl.insert(itl.end(), s.itl_s.begin(), s.itl_s.end());
    e2e.push_back(s.e2e_s);
  }
  if (wall_s > 0) {
    level.tokens_per_second = static_cast<double>(level.generated_tokens) / wall_s;
    level.requests_per_second = level.successful_requests / wall_s;
  }
  level.ttft_p50_ms = percentile_ms(ttft, 0.50);
  level.ttft_p90_ms = percentile_ms(ttft, 0.90);
  level.ttft_p99_ms = percentile_ms(ttft, 0.99);
  level.itl_p50_ms = percentile_ms(itl, 0.50);
  level.itl_p90_ms = percentile_ms(itl, 0.90);
  level.itl_p99_ms = percentile_ms(itl, 0.99);
  level.e2e_p50_ms = percentile_ms(e2e, 0.50);
  return level;
}

nlohmann::ordered_json level_json(const LevelStats& l) {
  nlohmann::ordered_json errors = nlohmann::ordered_json::object();
  for (const auto& [reason, count] : l.error_counts) errors[reason] = count;
  return {
      {"clients", l.clients},
      {"requests", l.requests},
      {"successful_requests", l.successful_requests},
      {"errors", l.errors},
      {"error_counts", errors},
      {"generated_tokens", l.generated_tokens},
      {"short_requests", l.short_requests},
      {"wall_s", l.wall_s},
      {"tokens_per_second", l.tokens_per_second},
      {"requests_per_second", l.requests_per_second},
      {"ttft_p50_ms", optional_json(l.ttft_p50_ms)},
      {"ttft_p90_ms", optional_json(l.ttft_p90_ms)},
      {"ttft_p99_ms", optional_json(l.ttft_p99_ms)},
      {"itl_p50_ms", optional_json(l.itl_p50_ms)},
      {"itl_p90_ms", optional_json(l.itl_p90_ms)},
      {"itl_p99_ms", optional_json(l.itl_p99_ms)},
      {"e2e_p50_ms", optional_json(l.e2e_p50_ms)},
      {"speculative_acceptance", optional_json(l.speculative_acceptance)},
      {"speculative_tokens_per_step", optional_json(l.speculative_tokens_per_step)},
  };
}

SpeculationCounters speculation_counters(const std::string& metrics_body) {
  SpeculationCounters c;
  std::istringstream lines(metrics_body);
  std::string line;
  while (std::getline(lines, line)) {
    const auto space = line.find(' ');
    if (space == std::string::npos || line.starts_with('#')) continue;
    const std::string_view name(line.data(), space);
    double* target = name == "tgi_speculative_steps"             ? &c.steps
                     : name == "tgi_speculative_proposed_tokens" ? &c.proposed
                     : name == "tgi_speculative_accepted_tokens" ? &c.accepted
                                                                 : nullptr;
    if (target == nullptr) continue;
    try {
      *target = std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
      *target = 0;
    }
  }
  return c;
}

void add_speculation(LevelStats& level, const SpeculationCounters& before, const SpeculationCounters& after) {
  const double steps = after.steps - before.steps, proposed = after.proposed - before.proposed;
  const double accepted = after.accepted - before.accepted;
  if (steps <= 0 || proposed <= 0) return;
  level.speculative_acceptance = accepted / proposed;
  level.speculative_tokens_per_step = 1 + accepted / steps;
}

std::string format_level_table(const std::vector<LevelStats>& levels) {
  std::string table = table_header();
  for (const LevelStats& level : levels) table += table_row(level);
  return table;
}

int run_http_bench(const HttpBenchOptions& options) {
  auto url = parse_http_url(options.url);
  if (!url.ok()) {
    fmt::print(stderr, "tgi bench: {}\n", url.error().message);
    return 2;
  }
  if (!options.plot_path.empty()) {
    if (auto terminal = plot_terminal(options.plot_path); !terminal.ok()) {
      fmt::print(stderr, "tgi bench: {}\n", terminal.error().message);
      return 2;
    }
    if (!gnuplot_available())
      fmt::print(stderr,
                 "tgi bench: warning: gnuplot is not installed, so --plot will fail at the end "
                 "(apt-get install gnuplot-nox); the table and JSON are still written\n");
  }
  const std::string prompt =
      options.prompt.empty() ? repeated_word_prompt(options.prompt_tokens) : options.prompt;
  const std::string body = generate_stream_body(prompt, options.max_new_tokens);
  const std::string prompt_label = options.prompt.empty()
                                       ? fmt::format("prompt ~{} tokens", options.prompt_tokens)
                                       : fmt::format("prompt of {} chars", prompt.size());

  // One untimed request: the server is there, and its first-request costs are paid.
  {
    HttpStreamClient client(*url, options.api_key);
    if (auto connected = client.connect(); !connected.ok()) {
      fmt::print(stderr, "tgi bench: {} (is `tgi serve` running at {}?)\n", connected.error().message,
                 url->to_string());
      return 1;
    }
    const RequestSample warmup =
        timed_request(client, generate_stream_body(prompt, std::min(options.max_new_tokens, 2)));
    if (!warmup.ok) fmt::print(stderr, "tgi bench: warning: the warm-up request failed: {}\n", warmup.error);
  }

  fmt::print("tgi bench: {} ({}, {} new tokens, {} requests per client, greedy)\n", url->to_string(),
             prompt_label, options.max_new_tokens, options.requests_per_client);
  fmt::print(
      "latencies in ms: ttft = time to first token, itl = inter-token latency, e2e = whole request\n\n");
  fmt::print("{}", table_header());
  std::fflush(stdout);
  std::vector<LevelStats> levels;
  // The server's speculation counters, read around each level (nothing when /metrics is absent).
  HttpStreamClient metrics_client(*url, options.api_key);
  auto read_counters = [&] {
    auto r = metrics_client.get("/metrics");
    return r.ok() && r->status == 200 ? speculation_counters(r->body) : SpeculationCounters{};
  };
  for (const int clients : options.clients) {
    const SpeculationCounters before = read_counters();
    levels.push_back(run_level(*url, options, body, clients));
    add_speculation(levels.back(), before, read_counters());
    fmt::print("{}", table_row(levels.back()));
    std::fflush(stdout);
  }
  int successes = 0, short_requests = 0;
  for (const LevelStats& level : levels) {
    successes += level.successful_requests;
    short_requests += level.short_requests;
    for (const auto& [reason, count] : level.error_counts)
      fmt::print("errors at {} clients: {} × {}\n", level.clients, count, reason);
    if (level.speculative_acceptance)
      fmt::print(
          "speculation at {} clients: {:.0f}% of proposed tokens accepted, {:.2f} tokens per verifying "
          "step\n",
          level.clients, 100 * *level.speculative_acceptance, *level.speculative_tokens_per_step);
  }
  if (short_requests > 0)
    fmt::print(
        "note: {} requests ended before {} tokens (end of sequence or the server's max_total_tokens); "
        "throughput counts the tokens that arrived\n",
        short_requests, options.max_new_tokens);

  int status = 0;
  nlohmann::ordered_json json;
  json["url"] = url->to_string();
  json["prompt_tokens"] = options.prompt.empty() ? nlohmann::ordered_json(options.prompt_tokens) : nullptr;
  json["prompt_chars"] = prompt.size();
  json["max_new_tokens"] = options.max_new_tokens;
  json["requests_per_client"] = options.requests_per_client;
  json["levels"] = nlohmann::ordered_json::array();
  for (const LevelStats& level : levels) json["levels"].push_back(level_json(level));
  if (!options.json_path.empty()) {
    if (options.json_path == "-") {
      std::cout << json.dump() << "\n";
    } else {
      std::ofstream out(options.json_path);
      out << json.dump(2) << "\n";
      if (!out) {
        fmt::print(stderr, "tgi bench: cannot write {}\n", options.json_path);
        status = 1;
      }
    }
  }
  if (successes == 0) {
    fmt::print(stderr, "tgi bench: no request succeeded\n");
    status = 1;
  }
  if (!options.plot_path.empty()) {
    std::vector<LoadPoint> points;
    for (const LevelStats& level : levels)
      points.push_back({level.clients, level.tokens_per_second, level.itl_p50_ms});
    const std::string title = fmt::format("tgi bench {}: {}, {} new tokens", url->to_string(), prompt_label,
                                          options.max_new_tokens);
    if (auto plotted = write_plot(points, options.plot_path, title); !plotted.ok()) {
      fmt::print(stderr, "tgi bench: --plot: {}\n", plotted.error().message);
      status = 1;
    } else {
      fmt::print("plot written to {}\n", options.plot_path);
    }
  }
  return status;
}

}  // namespace tgi::cli
