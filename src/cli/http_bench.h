#pragma once
// `tgi bench --url`: load on a running server over HTTP, as TGI's text-generation-benchmark
// reports it. For each concurrency level C in --clients, C threads (each with its own keep-alive
// connection) start together and each sends --requests-per-client streamed requests, one after
// another, to POST /generate_stream with greedy decoding and max_new_tokens M. Every token event
// is timestamped as it is read.
//
// A level's numbers (table columns, and the keys of each element of "levels" under --json):
//   clients               concurrent clients C
//   requests              requests sent: C × --requests-per-client
//   successful_requests   200 responses whose stream ended with a final event and no error event
//   errors                requests - successful_requests; "error_counts" maps each reason
//                         ("HTTP 422: <error>", "stream error: <error>", "transport: <reason>") to
//                         how many requests failed for it
//   generated_tokens      token events received, failed requests' included
//   short_requests        successful requests with fewer than M tokens (the model's EOS token, or
//                         the server's max_total_tokens, ended them: /generate has no way to
//                         ignore EOS, so what arrives is what is counted)
//   wall_s                from the moment the clients start to the end of the last response
//   tokens_per_second     generated_tokens / wall_s (output throughput)
//   requests_per_second   successful_requests / wall_s
//   ttft_p50_ms, ttft_p90_ms, ttft_p99_ms
//                         time to first token: request written → first token event (successful
//                         requests)
//   itl_p50_ms, itl_p90_ms, itl_p99_ms
//                         inter-token latency: gaps between consecutive token events of a request,
//                         pooled over the level's successful requests
//   e2e_p50_ms            request written → end of the response (successful requests)
//   speculative_acceptance, speculative_tokens_per_step
//                         from the server's /metrics counters read before and after the level:
//                         accepted / proposed speculative tokens, and 1 + accepted per verifying
//                         sequence-step; null when the server verified no proposal in the level
// Percentiles are nearest-rank (cli/bench_runner.h); a percentile with no samples is null in the
// JSON and "-" in the table. The JSON document is one object:
//   {"url", "prompt_tokens" (null with --prompt), "prompt_chars", "max_new_tokens",
//    "requests_per_client", "levels": [...]}
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tgi::cli {

struct HttpBenchOptions {
  std::string url;
  std::vector<int> clients{1, 2, 4, 8};
  int requests_per_client = 4;
  int prompt_tokens = 64;  // used when `prompt` is empty
  std::string prompt;
  int max_new_tokens = 64;
  std::string api_key;
  std::string json_path;  // "-": stdout
  std::string plot_path;  // .svg or .png
};

// About `tokens` tokens of text without a tokenizer: "hello" and then " hello" tokens - 1 times
// (one token each in common BPE vocabularies).
std::string repeated_word_prompt(int tokens);

// The body of one benchmark request: greedy (no sampling parameters), no stop sequences, no
// details, exactly `max_new_tokens` unless EOS comes first.
std::string generate_stream_body(const std::string& prompt, int max_new_tokens);

// One request as the client saw it.
struct RequestSample {
  bool ok = false;
  std::string error;          // why it failed (a key of error_counts)
  int tokens = 0;             // token events received
  double ttft_s = 0;          // request written → first token event
  std::vector<double> itl_s;  // gaps between consecutive token events
  double e2e_s = 0;           // request written → end of the response
  bool finished = false;      // the final event (the one with generated_text) arrived
  double last_token_s = 0;    // when the latest token event arrived
};

// Reads the events of one /generate_stream response into `sample` (token times relative to
// `sample`'s start, given as `now_s` of each event). Exposed for the tests.
void record_stream_event(const std::string& data, double now_s, RequestSample& sample);

struct LevelStats {
  int clients = 0;
  int requests = 0;
  int successful_requests = 0;
  int errors = 0;
  std::map<std::string, int> error_counts;
  long long generated_tokens = 0;
  int short_requests = 0;
  double wall_s = 0;
  double tokens_per_second = 0;
  double requests_per_second = 0;
  std::optional<double> ttft_p50_ms, ttft_p90_ms, ttft_p99_ms;
  std::optional<double> itl_p50_ms, itl_p90_ms, itl_p99_ms;
  std::optional<double> e2e_p50_ms;
  std::optional<double> speculative_acceptance, speculative_tokens_per_step;
};

// The speculation counters of a /metrics body (tgi_speculative_{steps,proposed_tokens,
// accepted_tokens}); zeros for counters it lacks.
struct SpeculationCounters {
  double steps = 0, proposed = 0, accepted = 0;
};
SpeculationCounters speculation_counters(const std::string& metrics_body);
// Sets `level`'s speculative_* fields from the counters before and after it.
void add_speculation(LevelStats& level, const SpeculationCounters& before, const SpeculationCounters& after);

LevelStats aggregate_level(int clients, int max_new_tokens, const std::vector<RequestSample>& samples,
                           double wall_s);
nlohmann::ordered_json level_json(const LevelStats& level);
std::string format_level_table(const std::vector<LevelStats>& levels);

// Runs the benchmark, prints the table, writes --json and --plot. Exit status: 0; 1 when the
// server cannot be reached, no request succeeded, or the JSON or plot could not be written.
// The error text of a TGI error body ({"error": ..., "error_type": ...}), else the body itself,
// cut to 160 characters.
std::string error_text(const std::string& body);

int run_http_bench(const HttpBenchOptions& options);

}  // namespace tgi::cli
