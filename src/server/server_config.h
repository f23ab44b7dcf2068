#pragma once
// Everything the HTTP layer is configured with, filled from `tgi serve` flags (TGI launcher names).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tgi::server {

struct ValidationLimits {
  int64_t max_best_of = 2;
  int64_t max_stop_sequences = 4;
  int64_t max_top_n_tokens = 5;
  int64_t max_input_tokens = 0;
  int64_t max_total_tokens = 0;
  int64_t max_client_batch_size = 4;
  bool grammar_supported = true;  // --disable-grammar-support: every grammar is a 422 (§1.4 #17)
};

// What /info and the OpenAI responses say about the served model.
struct ModelIdentity {
  std::string model_id;
  std::optional<std::string> model_sha;
  std::optional<std::string> pipeline_tag;
  std::string dtype;
  int64_t kv_budget_tokens = 0;
};

struct ServerConfig {
  std::string hostname = "0.0.0.0";
  uint16_t port = 3000;
  std::optional<std::string> unix_socket_path;
  int threads = 2;
  int64_t max_concurrent_requests = 128;
  int64_t payload_limit = 2000000;
  int64_t validation_workers = 2;
  std::optional<std::string> api_key;
  std::vector<std::string> cors_allow_origin;  // empty: any origin
  std::string compute_type = "gpu+optimized";  // x-compute-type (env COMPUTE_TYPE)
  bool enable_prefill_logprobs = false;
  // Whether chat answers split thinking into reasoning_content (--reasoning-format auto) or leave
  // it in content as generated (none).
  bool separate_reasoning = true;
  ValidationLimits limits;
  ModelIdentity model;
};

inline constexpr const char* kTgiVersion = "3.3.6-dev0";  // the TGI version whose API we implement

}  // namespace tgi::server
