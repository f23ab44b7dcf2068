// `tgi serve`: TGI launcher flags (and their environment variables) → server::LaunchOptions.
#include <memory>

#include "cli/commands.h"
#include "server/launcher.h"

namespace tgi::cli {

namespace {

// Every TGI launcher option also reads the upper-snake environment variable of its name.
std::string env_name(const std::string& flag) {
  std::string env;
  for (char c : flag) env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

template <typename T>
CLI::Option* option(CLI::App* cmd, const std::string& flag, T& target, const std::string& help) {
  return cmd->add_option("--" + flag, target, help)->envname(env_name(flag));
}

CLI::Option* flag(CLI::App* cmd, const std::string& name, bool& target, const std::string& help) {
  return cmd->add_flag("--" + name, target, help)->envname(env_name(name));
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto o = std::make_shared<server::LaunchOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve a model over HTTP (TGI and OpenAI APIs); TGI launcher flags");
  option(cmd, "model-id", o->model_id, "Local model directory, .gguf file or Hub id (default: the bundled tiny model)");
  option(cmd, "revision", o->revision, "Hub revision (branch, tag or commit)");
  option(cmd, "validation-workers", o->validation_workers, "Tokenizer workers (kept for compatibility)")->capture_default_str();
  option(cmd, "sharded", o->sharded, "Shard the model across devices (true needs tensor parallelism)");
  option(cmd, "num-shard", o->num_shard, "Tensor-parallel degree (this build: 1)");
  option(cmd, "quantize", o->quantize, "Quantize float weights at load: q8_0 | q4_0 | q4_k (eetq, bitsandbytes -> q8_0; bitsandbytes-nf4/-fp4 -> q4_0)");
  option(cmd, "speculate", o->speculate,
         "Tokens proposed per step by n-gram (prompt lookup) or draft-model speculation, verified losslessly "
         "(0: off)");
  option(cmd, "speculation-policy", o->speculation_policy,
         "cost: verify only the proposals that pay for themselves (measured step costs); always: every proposal");
  option(cmd, "speculative-model-id", o->speculative_model_id,
         "Draft model for speculation (same vocabulary; directory, GGUF file or Hub id); --speculate "
         "defaults to 4");
  option(cmd, "dtype", o->dtype, "float16 | bfloat16 | float32 (default: the model's)");
  option(cmd, "kv-cache-dtype", o->kv_cache_dtype,
         "KV cache dtype: float32 (default), bfloat16, float16 or int8");
  flag(cmd, "trust-remote-code", o->trust_remote_code, "Accepted; no effect (no Hub code is ever run)");
  option(cmd, "max-concurrent-requests", o->max_concurrent_requests, "In-flight requests; more get 429")->capture_default_str();
  option(cmd, "max-best-of", o->max_best_of, "Maximum best_of")->capture_default_str();
  option(cmd, "max-stop-sequences", o->max_stop_sequences, "Maximum stop sequences")->capture_default_str();
  option(cmd, "max-top-n-tokens", o->max_top_n_tokens, "Maximum top_n_tokens")->capture_default_str();
  option(cmd, "max-input-tokens", o->max_input_tokens, "Maximum prompt tokens (default: max_total_tokens - 1)");
  option(cmd, "max-input-length", o->max_input_length, "Legacy alias of --max-input-tokens");
  option(cmd, "max-total-tokens", o->max_total_tokens, "Maximum prompt + generated tokens per request");
  option(cmd, "waiting-served-ratio", o->waiting_served_ratio, "Non-chunking backpressure ratio")->capture_default_str();
  option(cmd, "max-batch-prefill-tokens", o->max_batch_prefill_tokens, "Prompt tokens per step");
  option(cmd, "max-batch-total-tokens", o->max_batch_total_tokens,
         "KV cache budget in tokens (default: 16 sequences x the context, within half the free memory)");
  option(cmd, "max-waiting-tokens", o->max_waiting_tokens, "Decode steps before forcing admission")->capture_default_str();
  option(cmd, "max-batch-size", o->max_batch_size, "Maximum sequences per step");
  option(cmd, "cuda-graphs", o->cuda_graphs, "CUDA graph batch sizes (no effect on CPU)");
  option(cmd, "hostname", o->hostname, "Listen address")->capture_default_str();
  cmd->add_option("-p,--port", o->port, "HTTP port")->envname("PORT")->capture_default_str();
  option(cmd, "prometheus-port", o->prometheus_port, "Extra port serving /metrics")->capture_default_str();
  option(cmd, "shard-uds-path", o->shard_uds_path, "Accepted for compatibility (single process)")->capture_default_str();
  option(cmd, "master-addr", o->master_addr, "Accepted for compatibility (single process)")->capture_default_str();
  option(cmd, "master-port", o->master_port, "Accepted for compatibility (single process)")->capture_default_str();
  option(cmd, "huggingface-hub-cache", o->huggingface_hub_cache, "Hub cache directory");
  option(cmd, "weights-cache-override", o->weights_cache_override, "Weights directory override (not supported)");
  flag(cmd, "disable-custom-kernels", o->disable_custom_kernels, "No effect on CPU");
  option(cmd, "cuda-memory-fraction", o->cuda_memory_fraction, "No effect on CPU")->capture_default_str();
  option(cmd, "rope-scaling", o->rope_scaling, "linear | dynamic (not supported by this build)");
  option(cmd, "rope-factor", o->rope_factor, "RoPE scaling factor (not supported by this build)");
  flag(cmd, "json-output", o->json_output, "Structured JSON logs");
  option(cmd, "otlp-endpoint", o->otlp_endpoint, "OTLP trace endpoint (not supported by this build)");
  option(cmd, "otlp-service-name", o->otlp_service_name, "OTLP service name")->capture_default_str();
  option(cmd, "cors-allow-origin", o->cors_allow_origin, "Allowed CORS origins (repeatable; default any)");
  option(cmd, "api-key", o->api_key, "Require 'Authorization: Bearer <key>' on generation routes");
  option(cmd, "watermark-gamma", o->watermark_gamma, "Watermark gamma (not supported by this build)");
  option(cmd, "watermark-delta", o->watermark_delta, "Watermark delta (not supported by this build)");
  flag(cmd, "ngrok", o->ngrok, "Not supported");
  option(cmd, "ngrok-authtoken", o->ngrok_authtoken, "Not supported");
  option(cmd, "ngrok-edge", o->ngrok_edge, "Not supported");
  option(cmd, "tokenizer-config-path", o->tokenizer_config_path, "Alternative tokenizer_config.json (chat template)");
  flag(cmd, "disable-grammar-support", o->disable_grammar_support,
       "Reject every structured-output request (grammar, response_format, forced tool calls) with a 422");
  option(cmd, "grammar-whitespace", o->grammar_whitespace,
         "White space between JSON tokens of structured output: bounded (none, a space, or a newline and "
         "--grammar-max-indent spaces/tabs) or compact (none)")
      ->check(CLI::IsMember({"bounded", "compact"}))
      ->capture_default_str();
  option(cmd, "grammar-max-indent", o->grammar_max_indent,
         "Spaces/tabs allowed after a newline between JSON tokens")
      ->capture_default_str();
  option(cmd, "grammar-max-states", o->grammar_max_states,
         "Lexer (DFA) states one compiled constraint may hold; more is a 422")
      ->capture_default_str();
  option(cmd, "grammar-max-rules", o->grammar_max_rules,
         "Grammar rules one compiled constraint may hold; more is a 422")
      ->capture_default_str();
  cmd->add_flag("-e,--env", o->env, "Print the runtime environment");
  option(cmd, "max-client-batch-size", o->max_client_batch_size, "Maximum prompts per /v1/completions")->capture_default_str();
  option(cmd, "lora-adapters", o->lora_adapters, "LoRA adapters (not supported by this build)");
  option(cmd, "usage-stats", o->usage_stats, "on | off | no-stack (this build never sends telemetry)")->capture_default_str();
  option(cmd, "payload-limit", o->payload_limit, "Maximum request body bytes (larger: 413)")->capture_default_str();
  flag(cmd, "enable-prefill-logprobs", o->enable_prefill_logprobs, "Allow decoder_input_details prompt logprobs");
  cmd->add_option("-g,--graceful-termination-timeout", o->graceful_termination_timeout,
                  "Seconds to finish in-flight requests after SIGTERM/SIGINT")
      ->envname("GRACEFUL_TERMINATION_TIMEOUT")
      ->capture_default_str();
  option(cmd, "unix-socket", o->unix_socket, "Also listen on this Unix socket path");
  option(cmd, "http-threads", o->http_threads, "Threads serving HTTP connections")->capture_default_str();
  option(cmd, "num-threads", o->num_threads, "Compute threads (0: all cores)")->capture_default_str();
  option(cmd, "reasoning-format", o->reasoning_format,
         "auto: chat answers carry thinking in reasoning_content; none: thinking stays in content")
      ->check(CLI::IsMember({"auto", "none"}))
      ->capture_default_str();
  option(cmd, "idle-timeout", o->idle_timeout, "Seconds a connection may sit with no request in progress")
      ->capture_default_str();
  option(cmd, "request-header-timeout", o->request_header_timeout,
         "Seconds from a request's first byte to the end of its headers (then 408)")
      ->capture_default_str();
  option(cmd, "request-body-timeout", o->request_body_timeout,
         "Seconds to receive a request's body (then 408)")
      ->capture_default_str();
  option(cmd, "max-connections", o->max_connections,
         "Open connections at most; more are closed when accepted")
      ->capture_default_str();
  option(cmd, "max-stream-backlog-bytes", o->max_stream_backlog_bytes,
         "Unsent bytes a stream may pile up for a slow reader before it is cancelled")
      ->capture_default_str();
  cmd->callback([o] { throw CLI::RuntimeError(server::run_server(*o)); });
}

}  // namespace tgi::cli
