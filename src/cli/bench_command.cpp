// `tgi bench`: prefill and decode throughput of the forward pass over a grid of batch sizes,
// prompt lengths and context lengths, as a table (and JSON), like TGI's text-generation-benchmark
// but without the server in the way. --bandwidth relates decode to the machine's measured memory
// read bandwidth (decode at small batch is memory-bound: every step streams all weights).
// With --url it instead loads a running server over HTTP at several concurrency levels
// (cli/http_bench.h).
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backend/load_quantization.h"
#include "cli/bench_runner.h"
#include "cli/commands.h"
#include "cli/http_bench.h"
#include "cli/speculation_bench.h"
#include "kernels/cpu/gemm/cpu_isa.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/memory_bandwidth.h"
#include "model/causal_lm.h"

namespace tgi::cli {
namespace {

struct BenchFlags {
  std::string model_dir;
  BenchGrid grid;
  int threads = 0;
  std::string quantize;  // "": weights as stored
  std::string kv_cache_dtype = "float32";
  std::string json_path;
  bool bandwidth = false;
  std::string isa;
  bool bf16_activations = false;
  bool bandwidth_only = false;
  int speculate = 0;  // > 0: verification cells and the engine comparison (cli/speculation_bench.h)
  std::string speculate_batch_sizes = "1,32";
  std::string speculative_model_id;  // a draft model for the engine comparison
  int speculate_new_tokens = 96;
};

double peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;  // Linux reports KiB
}

// Bytes of weights one decode step reads: the checkpoint minus the input embedding table, which
// a step only touches one row of (unless it doubles as the tied lm_head).
double weight_bytes_per_step(const std::filesystem::path& model_path, const model::ModelConfig& c) {
  double file_bytes = 0;
  std::error_code ec;
  if (std::filesystem::is_directory(model_path, ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(model_path, ec)) {
      if (entry.path().extension() == ".safetensors") file_bytes += static_cast<double>(entry.file_size(ec));
    }
  } else {
    file_bytes = static_cast<double>(std::filesystem::file_size(model_path, ec));
  }
  if (c.tie_word_embeddings) return file_bytes;
  // Dense llama-style parameter count, to find the embedding's share of the bytes.
  const double H = static_cast<double>(c.hidden_size), V = static_cast<double>(c.vocab_size);
  const double attn = H * static_cast<double>(c.head_dim) * static_cast<double>(2 * c.num_attention_heads + 2 * c.num_key_value_heads);
  const double mlp = 3.0 * H * static_cast<double>(c.intermediate_size);
  const double params = 2 * V * H + static_cast<double>(c.num_hidden_layers) * (attn + mlp);
  return params > 0 ? file_bytes * (1.0 - V * H / params) : file_bytes;
}

// Under --quantize the files no longer say what a step reads: the projections and the LM head are
// re-encoded (the embedding is only looked up). Dense llama-style count, as above.
double quantized_weight_bytes_per_step(const model::ModelConfig& c, kernels::WeightFormat format) {
  const double H = static_cast<double>(c.hidden_size), V = static_cast<double>(c.vocab_size);
  const double attn = H * static_cast<double>(c.head_dim) * static_cast<double>(2 * c.num_attention_heads + 2 * c.num_key_value_heads);
  const double mlp = 3.0 * H * static_cast<double>(c.intermediate_size);
  const double bytes_per_weight = static_cast<double>(kernels::weight_row_bytes(format, 256)) / 256.0;
  return (V * H + static_cast<double>(c.num_hidden_layers) * (attn + mlp)) * bytes_per_weight;
}

std::vector<int> parse_list(const std::string& text) {
  std::vector<int> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(std::stoi(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int run(const BenchFlags& flags) {
  const int threads = flags.threads > 0 ? flags.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (flags.bandwidth_only) {
    kernels::ThreadPool pool(threads);
    const double bw = kernels::measure_read_bandwidth(pool).bytes_per_second;
    fmt::print("read bandwidth {:.1f} GB/s ({} threads)\n", bw / 1e9, threads);
    if (flags.json_path == "-") std::cout << nlohmann::json{{"read_bandwidth_bytes_per_s", bw}, {"threads", threads}}.dump() << "\n";
    return 0;
  }
  if (flags.model_dir.empty()) {
    fmt::print(stderr, "tgi bench: --model-id is required\n");
    return 2;
  }
  if (!flags.isa.empty()) {
    const auto wanted = flags.isa == "avx512" ? kernels::CpuIsa::kAvx512 : kernels::CpuIsa::kAvx2;
    kernels::set_active_cpu_isa(wanted);
  }
  if (flags.bf16_activations) kernels::set_matmul_precision(kernels::MatmulPrecision::kBf16Activations);
  model::LoadOptions options;
  options.num_threads = flags.threads;
  if (!flags.quantize.empty()) {
    auto format = backend::parse_load_quantization(flags.quantize);
    if (!format.ok()) {
      fmt::print(stderr, "tgi bench: {}\n", format.error().message);
      return 2;
    }
    options.quantize = *format;
  }
  if (const auto kv = kernels::parse_kv_dtype(flags.kv_cache_dtype)) {
    options.kv_cache_dtype = *kv;
  } else {
    fmt::print(stderr, "tgi bench: unknown --kv-cache-dtype '{}' (float32, bfloat16, float16 or int8)\n",
               flags.kv_cache_dtype);
    return 2;
  }
  auto lm = model::load_causal_lm(flags.model_dir, options);
  if (!lm.ok()) {
    fmt::print(stderr, "tgi bench: {}\n", lm.error().message);
    return 1;
  }
  double bandwidth = 0;
  if (flags.bandwidth) {
    kernels::ThreadPool pool(threads);
    bandwidth = kernels::measure_read_bandwidth(pool).bytes_per_second;
  }
  BenchGrid grid = flags.grid;
  grid.verify_tokens = flags.speculate;
  auto results = run_bench(**lm, grid);
  if (!results.ok()) {
    fmt::print(stderr, "tgi bench: {}\n", results.error().message);
    return 1;
  }
  if (flags.bandwidth) {  // sample again after the run and keep the mean: the host's load drifts
    kernels::ThreadPool pool(threads);
    bandwidth = 0.5 * (bandwidth + kernels::measure_read_bandwidth(pool).bytes_per_second);
  }
  const double weight_bytes = options.quantize ? quantized_weight_bytes_per_step((*lm)->config(), *options.quantize)
                                               : weight_bytes_per_step(flags.model_dir, (*lm)->config());

  nlohmann::json json;
  json["model"] = flags.model_dir;
  json["threads"] = threads;
  json["isa"] = kernels::to_string(kernels::active_cpu_isa());
  json["bf16_activations"] = flags.bf16_activations && kernels::cpu_has_avx512_bf16();
  json["peak_rss_bytes"] = peak_rss_bytes();
  json["weight_bytes_per_step"] = weight_bytes;
  json["quantize"] = flags.quantize.empty() ? nlohmann::json(nullptr) : nlohmann::json(flags.quantize);
  if (flags.bandwidth) json["read_bandwidth_bytes_per_s"] = bandwidth;

  fmt::print("tgi bench: {} ({} threads, {} kernels{}{})\n", flags.model_dir, threads, json["isa"].get<std::string>(),
             json["bf16_activations"].get<bool>() ? ", bf16 activations" : "",
             flags.quantize.empty() ? "" : ", weights quantized at load to " + flags.quantize);
  fmt::print("\n{:>8} {:>12} {:>10}\n", "prompt", "prefill t/s", "median ms");
  for (const auto& c : results->prefill) {
    fmt::print("{:>8} {:>12.1f} {:>10.1f}\n", c.prompt_length, c.tokens_per_second, 1e3 * percentile(c.seconds, 0.5));
    json["prefill"].push_back({{"prompt_length", c.prompt_length},
                               {"tokens_per_second", c.tokens_per_second},
                               {"seconds", c.seconds}});
  }
  fmt::print("\n{:>6} {:>8} {:>11} {:>8} {:>8} {:>8} {:>9}{}\n", "batch", "context", "decode t/s", "p50 ms", "p90 ms",
             "p99 ms", "GB/s", flags.bandwidth ? "  % of bw" : "");
  for (const auto& c : results->decode) {
    const double steps_per_second = c.batch_size > 0 ? c.tokens_per_second / c.batch_size : 0;
    const double bytes_per_second = steps_per_second * (weight_bytes + c.kv_bytes_read_per_step);
    std::string share;
    if (flags.bandwidth && bandwidth > 0) share = fmt::format("  {:>7.1f}", 100.0 * bytes_per_second / bandwidth);
    fmt::print("{:>6} {:>8} {:>11.1f} {:>8.2f} {:>8.2f} {:>8.2f} {:>9.1f}{}\n", c.batch_size, c.context_length,
               c.tokens_per_second, c.p50_ms, c.p90_ms, c.p99_ms, bytes_per_second / 1e9, share);
    nlohmann::json cell = {{"batch_size", c.batch_size},     {"context_length", c.context_length},
                           {"tokens_per_second", c.tokens_per_second}, {"p50_ms", c.p50_ms},
                           {"p90_ms", c.p90_ms},             {"p99_ms", c.p99_ms},
                           {"bytes_per_second", bytes_per_second}};
    if (flags.bandwidth && bandwidth > 0) cell["bandwidth_fraction"] = bytes_per_second / bandwidth;
    json["decode"].push_back(cell);
  }
  if (!results->verify.empty()) {
    fmt::print("\nverifying {} proposals ({} rows per sequence) vs one decode step\n", flags.speculate,
               flags.speculate + 1);
    fmt::print("{:>6} {:>8} {:>12} {:>12} {:>8}\n", "batch", "context", "decode ms", "verify ms", "ratio");
    for (size_t i = 0; i < results->verify.size() && i < results->decode.size(); ++i) {
      const DecodeCell& d = results->decode[i];
      const DecodeCell& v = results->verify[i];
      const double ratio = d.p50_ms > 0 ? v.p50_ms / d.p50_ms : 0;
      fmt::print("{:>6} {:>8} {:>12.2f} {:>12.2f} {:>7.2f}x\n", v.batch_size, v.context_length, d.p50_ms,
                 v.p50_ms, ratio);
      json["verify"].push_back({{"batch_size", v.batch_size},
                                {"context_length", v.context_length},
                                {"rows_per_sequence", v.rows_per_sequence},
                                {"decode_p50_ms", d.p50_ms},
                                {"verify_p50_ms", v.p50_ms},
                                {"ratio", ratio}});
    }
  }
  if (flags.speculate > 0) {
    lm->reset();  // the comparison loads its own copies
    SpeculationBenchOptions spec;
    spec.speculate = flags.speculate;
    spec.batch_sizes = parse_list(flags.speculate_batch_sizes);
    spec.new_tokens = flags.speculate_new_tokens;
    ModelLoader load_draft;
    if (!flags.speculative_model_id.empty())
      load_draft = [&] { return model::load_causal_lm(flags.speculative_model_id, options); };
    auto cells = run_speculation_bench([&] { return model::load_causal_lm(flags.model_dir, options); }, spec,
                                       load_draft);
    if (!cells.ok()) {
      fmt::print(stderr, "tgi bench: {}\n", cells.error().message);
      return 1;
    }
    fmt::print(
        "\nspeculative decoding through the engine (--speculate {}, {}, greedy, {} new tokens)\n",
        flags.speculate,
        flags.speculative_model_id.empty() ? std::string("n-gram") : "draft " + flags.speculative_model_id,
        spec.new_tokens);
    fmt::print("{:>8} {:>6} {:>11} {:>11} {:>8} {:>11} {:>11} {:>10}\n", "workload", "batch", "plain t/s",
               "spec t/s", "speedup", "acceptance", "tok/step", "identical");
    for (const auto& c : *cells) {
      const double speedup =
          c.plain_tokens_per_second > 0 ? c.speculative_tokens_per_second / c.plain_tokens_per_second : 0;
      fmt::print("{:>8} {:>6} {:>11.1f} {:>11.1f} {:>7.2f}x {:>11.2f} {:>11.2f} {:>10}\n", c.workload,
                 c.batch_size, c.plain_tokens_per_second, c.speculative_tokens_per_second, speedup,
                 c.acceptance, c.tokens_per_step, c.identical ? "yes" : "NO");
      json["speculation"].push_back({{"workload", c.workload},
                                     {"batch_size", c.batch_size},
                                     {"plain_tokens_per_second", c.plain_tokens_per_second},
                                     {"speculative_tokens_per_second", c.speculative_tokens_per_second},
                                     {"speedup", speedup},
                                     {"acceptance", c.acceptance},
                                     {"tokens_per_step", c.tokens_per_step},
                                     {"identical", c.identical}});
    }
  }
  fmt::print("\npeak RSS {:.2f} GiB", peak_rss_bytes() / (1024.0 * 1024 * 1024));
  if (flags.bandwidth) fmt::print(", read bandwidth {:.1f} GB/s", bandwidth / 1e9);
  fmt::print("\n");
  if (!flags.json_path.empty()) {
    if (flags.json_path == "-") {
      std::cout << json.dump() << "\n";
    } else {
      std::ofstream out(flags.json_path);
      out << json.dump(2) << "\n";
      if (!out) {
        fmt::print(stderr, "tgi bench: cannot write {}\n", flags.json_path);
        return 1;
      }
    }
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto flags = std::make_shared<BenchFlags>();
  auto lists = std::make_shared<std::array<std::string, 3>>(std::array<std::string, 3>{"1,8,32", "512", "0"});
  auto http = std::make_shared<HttpBenchOptions>();
  auto clients = std::make_shared<std::string>("1,2,4,8");
  auto* cmd = app.add_subcommand(
      "bench",
      "Benchmark prefill and decode over a grid of batch sizes, or (--url) a running server under load");
  cmd->add_option("--model-id", flags->model_dir, "Model directory (config.json + safetensors) or .gguf file");
  cmd->add_option("--batch-sizes", (*lists)[0], "Decode batch sizes, comma-separated")->capture_default_str();
  cmd->add_option("--prompt-lengths", (*lists)[1], "Prefill prompt lengths, comma-separated (0: none)")
      ->capture_default_str();
  cmd->add_option("--context-lengths", (*lists)[2], "Tokens in each sequence's KV cache before decoding")
      ->capture_default_str();
  cmd->add_option("--decode-steps", flags->grid.decode_steps, "Timed decode steps per cell")->capture_default_str();
  cmd->add_option("--warmups", flags->grid.warmups, "Untimed runs/steps before measuring")->capture_default_str();
  cmd->add_option("--runs", flags->grid.runs, "Timed prefill runs")->capture_default_str();
  cmd->add_option("--threads", flags->threads, "Compute threads (0: all cores)")->capture_default_str();
  cmd->add_option("--kv-cache-dtype", flags->kv_cache_dtype,
                  "KV cache dtype: float32, bfloat16, float16 or int8")
      ->capture_default_str();
  cmd->add_option("--quantize", flags->quantize, "Quantize float projection weights at load: q8_0, q4_0 or q4_k")
      ->check(CLI::IsMember({"q8_0", "q4_0", "q4_k"}));
  cmd->add_option("--json", flags->json_path, "Also write the results as JSON to this file ('-': stdout)");
  cmd->add_flag("--bandwidth", flags->bandwidth, "Measure memory read bandwidth and report decode as a share of it");
  cmd->add_option("--isa", flags->isa, "Force the kernels' instruction set")->check(CLI::IsMember({"avx2", "avx512"}));
  cmd->add_flag("--bandwidth-only", flags->bandwidth_only, "Only measure memory read bandwidth");
  cmd->add_flag("--bf16-activations", flags->bf16_activations,
                "Round activations to bf16 for bf16 weights (AVX-512-BF16 vdpbf16ps; transformers' bf16 precision)");
  cmd->add_option("--speculate", flags->speculate,
                  "Also time verifying N proposals per step, and decode through the engine with and without "
                  "n-gram speculation (copying and random workloads)")
      ->check(CLI::Range(0, 16));
  cmd->add_option("--speculate-batch-sizes", flags->speculate_batch_sizes,
                  "Batch sizes of the --speculate engine comparison, comma-separated")
      ->capture_default_str();
  cmd->add_option("--speculative-model-id", flags->speculative_model_id,
                  "Draft model for the --speculate engine comparison (else prompt lookup)");
  cmd->add_option("--speculate-new-tokens", flags->speculate_new_tokens,
                  "Tokens each request of the --speculate comparison generates")
      ->capture_default_str();
  const std::string group = "HTTP load on a running server (--url)";
  auto* url_opt =
      cmd->add_option("--url", http->url,
                      "Benchmark the server at http://HOST[:PORT][/PATH] over POST /generate_stream "
                      "instead of a model's forward pass")
          ->group(group);
  std::vector<CLI::Option*> http_only = {
      cmd->add_option("--clients", *clients, "Concurrent clients per level, comma-separated")
          ->capture_default_str()
          ->group(group),
      cmd->add_option("--requests-per-client", http->requests_per_client,
                      "Streamed requests each client sends")
          ->check(CLI::PositiveNumber)
          ->capture_default_str()
          ->group(group),
  };
  auto* prompt_tokens_opt =
      cmd->add_option(
             "--prompt-tokens", http->prompt_tokens,
             "Prompt of about this many tokens, built without a tokenizer as the word 'hello' repeated")
          ->check(CLI::PositiveNumber)
          ->capture_default_str()
          ->group(group);
  auto* prompt_opt =
      cmd->add_option("--prompt", http->prompt, "Literal prompt text (instead of --prompt-tokens)")
          ->group(group);
  http_only.insert(
      http_only.end(),
      {prompt_tokens_opt, prompt_opt,
       cmd->add_option("--max-new-tokens", http->max_new_tokens,
                       "Tokens each request generates (greedy; fewer if the model ends the sequence first)")
           ->check(CLI::PositiveNumber)
           ->capture_default_str()
           ->group(group),
       cmd->add_option(
              "--plot", http->plot_path,
              "Also plot throughput vs clients and latency vs throughput to FILE.svg or FILE.png (needs "
              "gnuplot: apt-get install gnuplot-nox)")
           ->group(group),
       cmd->add_option("--api-key", http->api_key, "Bearer token, for a server started with --api-key")
           ->group(group)});
  cmd->callback([flags, lists, http, clients, url_opt, prompt_tokens_opt, prompt_opt, http_only] {
    if (url_opt->count() > 0) {
      if (!flags->model_dir.empty()) {
        fmt::print(stderr,
                   "tgi bench: give --url (a running server) or --model-id (the forward pass), not both\n");
        throw CLI::RuntimeError(2);
      }
      if (prompt_tokens_opt->count() > 0 && prompt_opt->count() > 0) {
        fmt::print(stderr, "tgi bench: give --prompt-tokens or --prompt, not both\n");
        throw CLI::RuntimeError(2);
      }
      try {
        http->clients = parse_list(*clients);
      } catch (const std::exception&) {
        http->clients.clear();
      }
      if (http->clients.empty() ||
          std::any_of(http->clients.begin(), http->clients.end(), [](int c) { return c < 1; })) {
        fmt::print(stderr, "tgi bench: --clients is a comma-separated list of positive integers\n");
        throw CLI::RuntimeError(2);
      }
      http->json_path = flags->json_path;
      const int code = run_http_bench(*http);
      if (code != 0) throw CLI::RuntimeError(code);
      return;
    }
    for (const CLI::Option* option : http_only) {
      if (option->count() > 0) {
        fmt::print(stderr, "tgi bench: {} needs --url\n", option->get_name());
        throw CLI::RuntimeError(2);
      }
    }
    try {
      flags->grid.batch_sizes = parse_list((*lists)[0]);
      flags->grid.prompt_lengths = parse_list((*lists)[1]);
      flags->grid.context_lengths = parse_list((*lists)[2]);
    } catch (const std::exception&) {
      fmt::print(stderr, "tgi bench: lists are comma-separated integers\n");
      throw CLI::RuntimeError(2);
    }
    const int code = run(*flags);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace tgi::cli
