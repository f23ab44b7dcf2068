#pragma once
// TGI's launcher options (spec §3) as one struct, checked on their own before anything loads.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace tgi::server {

// Proposals longer than this verify rows that are almost never all accepted.
inline constexpr int64_t kMaxSpeculate = 16;

struct LaunchOptions {
  std::optional<std::string> model_id;  // none: the bundled default model (TGI_DEFAULT_MODEL_DIR)
  std::optional<std::string> revision;
  int64_t validation_workers = 2;
  std::optional<bool> sharded;
  std::optional<int64_t> num_shard;
  std::optional<std::string> quantize;
  std::optional<int64_t> speculate;                 // speculative tokens per step (0: off)
  std::optional<std::string> speculative_model_id;  // draft model for speculation (ours, not TGI's)
  // "cost": verify only the proposals that pay (measured step costs); "always": every proposal.
  std::string speculation_policy = "cost";
  std::optional<std::string> dtype;
  std::optional<std::string> kv_cache_dtype;
  bool trust_remote_code = false;
  int64_t max_concurrent_requests = 128;
  int64_t max_best_of = 2;
  int64_t max_stop_sequences = 4;
  int64_t max_top_n_tokens = 5;
  std::optional<int64_t> max_input_tokens;
  std::optional<int64_t> max_input_length;
  std::optional<int64_t> max_total_tokens;
  double waiting_served_ratio = 0.3;
  std::optional<int64_t> max_batch_prefill_tokens;
  std::optional<int64_t> max_batch_total_tokens;
  int64_t max_waiting_tokens = 20;
  std::optional<int64_t> max_batch_size;
  std::optional<std::string> cuda_graphs;
  std::string hostname = "0.0.0.0";
  int64_t port = 3000;
  int64_t prometheus_port = 9000;
  std::string shard_uds_path = "/tmp/text-generation-server";
  std::string master_addr = "localhost";
  int64_t master_port = 29500;
  std::optional<std::string> huggingface_hub_cache;
  std::optional<std::string> weights_cache_override;
  bool disable_custom_kernels = false;
  double cuda_memory_fraction = 1.0;
  std::optional<std::string> rope_scaling;
  std::optional<double> rope_factor;
  bool json_output = false;
  std::optional<std::string> otlp_endpoint;
  std::string otlp_service_name = "text-generation-inference.router";
  std::vector<std::string> cors_allow_origin;
  std::optional<std::string> api_key;
  std::optional<double> watermark_gamma;
  std::optional<double> watermark_delta;
  bool ngrok = false;
  std::optional<std::string> ngrok_authtoken;
  std::optional<std::string> ngrok_edge;
  std::optional<std::string> tokenizer_config_path;
  bool disable_grammar_support = false;
  // Structured output (beyond TGI): white space between JSON tokens, and what one compile may
  // cost before it is a 422.
  std::string grammar_whitespace = "bounded";  // bounded | compact
  int64_t grammar_max_indent = 20;
  int64_t grammar_max_states = 500000;
  int64_t grammar_max_rules = 200000;
  bool env = false;
  int64_t max_client_batch_size = 4;
  std::optional<std::string> lora_adapters;
  std::string usage_stats = "on";
  int64_t payload_limit = 2000000;
  bool enable_prefill_logprobs = false;
  int64_t graceful_termination_timeout = 90;
  // Beyond TGI.
  std::optional<std::string> unix_socket;  // also listen on this Unix socket path
  int64_t http_threads = 2;
  // Connection hygiene (seconds may be fractional); see HttpServerOptions.
  std::string reasoning_format = "auto";  // auto | none
  double idle_timeout = 60;
  double request_header_timeout = 10;
  double request_body_timeout = 60;
  int64_t max_connections = 1024;
  int64_t max_stream_backlog_bytes = 8 << 20;
  int64_t num_threads = 0;  // compute threads for the model; 0: all cores
};

// Checks the options on their own (before anything is loaded); flags that need a backend this
// build lacks are rejected here with a message that says so.
Result<void> validate_launch_options(const LaunchOptions& options);
// The load-time weight encoding `--quantize <method>` asks for ("q8_0", "q4_0" or "q4_k"): ours by
// name, TGI's load-time methods mapped onto the nearest one (eetq, bitsandbytes -> q8_0;
// bitsandbytes-nf4/-fp4 -> q4_0; see docs/flags.md). nullopt for anything else, which
// validate_launch_options rejects (gptq, awq, ... need pre-quantized checkpoints).
std::optional<std::string> load_quantization_for(const std::string& method);

// The options as one printable line, TGI-style ("Args { model_id: ..., ... }").
std::string describe_launch_options(const LaunchOptions& options);

}  // namespace tgi::server
