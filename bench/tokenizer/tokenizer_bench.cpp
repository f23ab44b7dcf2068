// Encode throughput (MB per CPU second, one thread, one call per document) and tokenizer.json
// load time of our tokenizer; prints one JSON line for run.sh to compare with the reference
// (ref_bench.js measures the same way). CPU time keeps a busy machine from skewing the ratio.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

using Clock = std::chrono::steady_clock;

static double wall_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

static double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s TOKENIZER_JSON CORPUS_JSON NAME [ROUNDS]\n", argv[0]);
    return 2;
  }
  const int rounds = argc > 4 ? std::stoi(argv[4]) : 3;
  std::ifstream in(argv[2]);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto docs = nlohmann::json::parse(ss.str()).get<std::vector<std::string>>();
  size_t bytes = 0;
  for (const auto& d : docs) bytes += d.size();

  auto w0 = Clock::now();
  double c0 = cpu_seconds();
  auto tok = tgi::tokenizer::Tokenizer::from_file(argv[1]);
  const double load_cpu = cpu_seconds() - c0;
  const double load_wall = wall_since(w0);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.error().message.c_str());
    return 1;
  }
  // Warm-up pass (fills the per-thread word cache, as a running server would have).
  size_t tokens = 0;
  for (const auto& d : docs) tokens += (*tok)->encode(d, true)->ids.size();
  double best_cpu = 1e30, best_wall = 1e30;
  for (int r = 0; r < rounds; ++r) {
    w0 = Clock::now();
    c0 = cpu_seconds();
    size_t n = 0;
    for (const auto& d : docs) n += (*tok)->encode(d, true)->ids.size();
    best_cpu = std::min(best_cpu, cpu_seconds() - c0);
    best_wall = std::min(best_wall, wall_since(w0));
    if (n != tokens) return 1;
  }
  std::printf(
      "{\"impl\":\"tgi-cpp\",\"name\":\"%s\",\"load_cpu_s\":%.3f,\"load_wall_s\":%.3f,\"mb\":%.3f,\"tokens\":%zu,"
      "\"encode_cpu_s\":%.4f,\"encode_wall_s\":%.4f,\"mb_per_cpu_s\":%.2f}\n",
      argv[3], load_cpu, load_wall, bytes / 1e6, tokens, best_cpu, best_wall, bytes / 1e6 / best_cpu);
  return 0;
}
