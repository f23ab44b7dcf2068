#pragma once
// The one line `tgi serve` logs when it is ready: what was loaded, how it computes, and the
// limits that follow from it, so a reader sees at a glance why the server behaves as it does:
//   Ready in 1.8s: llama 1.10B params, Q8_0 GGUF (1.09 GiB), avx2 x2 threads,
//     KV cache float32 32768 tokens (1.40 GiB), context 2048 (input 2047), 128 concurrent requests
// Under --json-output the same facts are typed fields of target "tgi::startup" (log_format.h).
// A part left empty or zero is left out of the line.
#include <cstdint>
#include <string>
#include <vector>

#include "server/log_format.h"

namespace tgi::server {

struct StartupSummary {
  std::string architecture;  // "llama", "qwen3"
  int64_t parameters = 0;
  std::vector<std::string>
      weight_formats;  // "Q8_0 GGUF", "BF16 safetensors", "BF16 quantized at load to q8_0"
  uint64_t weights_bytes = 0;
  std::string isa;                        // "avx2", "avx512"
  std::vector<std::string> isa_features;  // "vnni", "bf16"
  int64_t threads = 0;
  std::string kv_cache_dtype;  // "float32", "int8"
  int64_t kv_budget_tokens = 0;
  uint64_t kv_budget_bytes = 0;
  int64_t max_total_tokens = 0;  // the context a request may use
  int64_t max_input_tokens = 0;
  int64_t max_concurrent_requests = 0;
  double load_seconds = 0;
};

std::string startup_summary_text(const StartupSummary& summary);
std::vector<LogField> startup_summary_fields(const StartupSummary& summary);
LogEvent startup_summary_event(const StartupSummary& summary);  // info; message = the text line

// Logs the summary on the default logger.
void log_startup_summary(const StartupSummary& summary);

}  // namespace tgi::server
