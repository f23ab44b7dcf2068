// Token-mask cost on a real vocabulary, the way MaskBench measures it: for every public
// JSONSchemaBench schema that compiles, each labelled valid instance (as the grammar spells it)
// is tokenized and replayed token by token; before each token the full allowed-token mask is
// computed (thread CPU time, one core) and the token is checked to be in it. Prints compile-time
// and mask-time percentiles and how many replayed tokens the mask wrongly refused (must be 0).
// --also-warm times every mask a second time once its lexeme states are learned: what a schema
// costs per token from its second use on (a server sees the same schemas again and again).
//
// Build (after `ninja -C build/<dir> tgi_grammar tgi_tokenizer`):
//   g++ -std=c++20 -O3 -DNDEBUG -mavx2 -mfma -Isrc bench/structured/mask_bench.cpp
//   build/<dir>/libtgi_grammar.a
//       build/<dir>/libtgi_tokenizer.a build/<dir>/libtgi_core.a -lpcre2-8 -licuuc -lfmt -lz -o
//       /tmp/mask_bench
// Run:
//   /tmp/mask_bench <tokenizer.json> <schemas.jsonl.gz>... [--max-schemas N] [--max-instances-per-schema K]
//   [--no-cache]
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grammar/grammar_matcher.h"
#include "grammar/json_schema_compiler.h"
#include "grammar/token_trie.h"
#include "tokenizer/token_bytes.h"
#include "tokenizer/tokenizer.h"

namespace {

double thread_cpu_micros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

std::vector<std::string> read_gzip_lines(const char* path) {
  std::vector<std::string> lines;
  gzFile f = gzopen(path, "rb");
  if (!f) return lines;
  std::string current;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) {
    for (int i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        lines.push_back(std::move(current));
        current.clear();
      } else {
        current.push_back(buf[i]);
      }
    }
  }
  if (!current.empty()) lines.push_back(std::move(current));
  gzclose(f);
  return lines;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s tokenizer.json schemas.jsonl.gz... [--max-schemas N]\n", argv[0]);
    return 2;
  }
  size_t max_schemas = SIZE_MAX, max_instances = 2;
  bool use_cache = true;
  bool also_warm = false;  // time each mask a second time, every lexeme state already learned
  std::vector<const char*> files;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--max-schemas") == 0 && i + 1 < argc) {
      max_schemas = std::stoul(argv[++i]);
    } else if (std::strcmp(argv[i], "--no-cache") == 0) {
      use_cache = false;
    } else if (std::strcmp(argv[i], "--also-warm") == 0) {
      also_warm = true;
    } else if (std::strcmp(argv[i], "--max-instances-per-schema") == 0 && i + 1 < argc) {
      max_instances = std::stoul(argv[++i]);
    } else {
      files.push_back(argv[i]);
    }
  }
  auto tok = tgi::tokenizer::Tokenizer::from_file(argv[1]);
  if (!tok.ok()) {
    std::fprintf(stderr, "tokenizer: %s\n", tok.error().message.c_str());
    return 1;
  }
  const double t0 = thread_cpu_micros();
  const std::vector<std::string> bytes = tgi::tokenizer::token_bytes(**tok);
  const tgi::grammar::TokenTrie trie(bytes);
  const double t1 = thread_cpu_micros();
  std::printf("vocabulary: %zu tokens, trie %zu nodes, built in %.1f ms\n", bytes.size(), trie.node_count(),
              (t1 - t0) / 1e3);

  std::vector<double> compile_us, mask_us, warm_us;
  size_t schemas = 0, compiled = 0, instances = 0, replayed = 0, refused_tokens = 0, not_spelled = 0;
  tgi::grammar::TokenBitmask mask;
  for (const char* file : files) {
    for (const std::string& line : read_gzip_lines(file)) {
      if (schemas >= max_schemas) break;
      const auto row = nlohmann::ordered_json::parse(line, nullptr, false);
      if (row.is_discarded() || !row.contains("schema")) continue;
      ++schemas;
      const double c0 = thread_cpu_micros();
      auto grammar = tgi::grammar::compile_json_schema(row["schema"]);
      compile_us.push_back(thread_cpu_micros() - c0);
      if (!grammar.ok()) continue;
      ++compiled;
      size_t used = 0;
      // One cache per compiled grammar, shared by its requests (as the engine shares it).
      tgi::grammar::LexemeMaskCache cache;
      for (const auto& test : row.value("tests", nlohmann::ordered_json::array())) {
        if (!test.value("valid", false) || used >= max_instances) continue;
        const std::string text = test["data"].dump();
        ++instances;
        if (!grammar->accepts(text)) {
          ++not_spelled;  // the grammar spells this instance differently (e.g. property order)
          continue;
        }
        ++used;
        auto enc = (*tok)->encode(text, /*add_special_tokens=*/false);
        if (!enc.ok()) continue;
        tgi::grammar::GrammarMatcher matcher(*grammar);
        bool ok = true;
        for (int32_t id : enc->ids) {
          const double m0 = thread_cpu_micros();
          if (use_cache) {
            trie.fill_allowed(matcher, mask, cache);
          } else {
            trie.fill_allowed(matcher, mask);
          }
          mask_us.push_back(thread_cpu_micros() - m0);
          if (also_warm && use_cache) {
            const double w0 = thread_cpu_micros();
            trie.fill_allowed(matcher, mask, cache);
            warm_us.push_back(thread_cpu_micros() - w0);
          }
          if (!mask.test(static_cast<size_t>(id))) {
            ++refused_tokens;
            ok = false;
            break;
          }
          matcher.push_bytes(bytes[id]);
        }
        replayed += ok;
      }
    }
  }
  std::printf(
      "schemas %zu, compiled %zu (%.1f%%); valid instances %zu, spelled as the grammar does %zu, "
      "replayed %zu; tokens masked %zu; replayed tokens refused by the mask %zu\n",
      schemas, compiled,
      100.0 * static_cast<double>(compiled) / static_cast<double>(std::max<size_t>(1, schemas)), instances,
      instances - not_spelled, replayed, mask_us.size(), refused_tokens);
  std::printf("compile us: p50 %.0f p95 %.0f p99 %.0f max %.0f\n", percentile(compile_us, 50),
              percentile(compile_us, 95), percentile(compile_us, 99), percentile(compile_us, 100));
  std::printf("mask us per token: p50 %.0f p75 %.0f p90 %.0f p95 %.0f p99 %.0f p99.9 %.0f max %.0f\n",
              percentile(mask_us, 50), percentile(mask_us, 75), percentile(mask_us, 90),
              percentile(mask_us, 95), percentile(mask_us, 99), percentile(mask_us, 99.9),
              percentile(mask_us, 100));
  if (!warm_us.empty()) {
    std::printf(
        "mask us per token, lexeme states already learned: p50 %.0f p90 %.0f p95 %.0f p99 %.0f p99.9 %.0f\n",
        percentile(warm_us, 50), percentile(warm_us, 90), percentile(warm_us, 95), percentile(warm_us, 99),
        percentile(warm_us, 99.9));
  }
  return 0;
}
