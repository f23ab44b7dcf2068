#include "server/launch_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "kernels/kv_dtype.h"

namespace tgi::server {

namespace {

Error unsupported(const std::string& message) { return Error{ErrorKind::kUnsupported, message}; }

std::string show(const std::optional<std::string>& v) { return v ? fmt::format("Some({:?})", *v) : "None"; }
template <typename T>
std::string show(const std::optional<T>& v) {
  return v ? fmt::format("Some({})", *v) : "None";
}

}  // namespace

std::optional<std::string> load_quantization_for(const std::string& method) {
  if (method == "q8_0" || method == "q4_0" || method == "q4_k") return method;
  // Both quantize float weights to 8 bits at load, weight-only; Q8_0's 32-weight blocks are finer
  // than EETQ's per-channel scales, and LLM.int8's fp16 outlier columns are not reproduced.
  if (method == "eetq" || method == "bitsandbytes") return "q8_0";
  // 4-bit blockwise at load; Q4_0 is a uniform 4-bit grid over 32-weight blocks, not NF4/FP4's
  // codebooks over 64.
  if (method == "bitsandbytes-nf4" || method == "bitsandbytes-fp4") return "q4_0";
  return std::nullopt;
}

Result<void> validate_launch_options(const LaunchOptions& o) {
  if (o.validation_workers == 0) return Error{ErrorKind::kInvalidArgument, "`validation_workers` must be > 0"};
  if (o.num_shard && *o.num_shard > 1)
    return unsupported(fmt::format("--num-shard {} needs tensor parallelism across devices, which this build does "
                                   "not have; use --num-shard 1",
                                   *o.num_shard));
  if (o.num_shard && *o.num_shard < 1) return Error{ErrorKind::kInvalidArgument, "--num-shard must be >= 1"};
  if (o.sharded && *o.sharded)
    return unsupported("--sharded true needs tensor parallelism across devices, which this build does not have");
  if (o.quantize && !load_quantization_for(*o.quantize))
    return unsupported(fmt::format("--quantize {} is not supported by this build: it quantizes float weights at "
                                   "load with --quantize q8_0, q4_0 or q4_k (also accepted: eetq, bitsandbytes, "
                                   "bitsandbytes-nf4, bitsandbytes-fp4); pre-quantized checkpoints are served as "
                                   "GGUF files",
                                   *o.quantize));
  if (o.speculation_policy != "cost" && o.speculation_policy != "always")
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("--speculation-policy must be cost or always, got {:?}", o.speculation_policy)};
  if (o.speculate && (*o.speculate < 0 || *o.speculate > kMaxSpeculate))
    return Error{ErrorKind::kInvalidArgument,
                 fmt::format("--speculate must be between 0 and {}, got {}", kMaxSpeculate, *o.speculate)};
  if (o.kv_cache_dtype && !kernels::parse_kv_dtype(*o.kv_cache_dtype))
    return unsupported(
        fmt::format("--kv-cache-dtype {} is not supported by this build: the CPU cache stores float32 "
                    "(default), bfloat16, float16 or int8 (fp8 KV is CUDA-only in TGI)",
                    *o.kv_cache_dtype));
  if (o.lora_adapters) return unsupported("--lora-adapters is not supported by this build");
  if (o.rope_scaling || o.rope_factor) return unsupported("--rope-scaling/--rope-factor are not supported by this build");
  if (o.otlp_endpoint) return unsupported("--otlp-endpoint: OpenTelemetry export is not supported by this build");
  if (o.ngrok) return unsupported("--ngrok is not supported (it is non-functional in TGI as well)");
  if (o.weights_cache_override) return unsupported("--weights-cache-override is not supported by this build");
  if (o.watermark_gamma || o.watermark_delta)
    return unsupported("--watermark-gamma/--watermark-delta are not supported by this build");
  if (o.dtype && *o.dtype != "float16" && *o.dtype != "bfloat16" && *o.dtype != "float32")
    return Error::make(ErrorKind::kInvalidArgument, "--dtype must be float16, bfloat16 or float32, got {:?}", *o.dtype);
  if (o.max_input_tokens && o.max_input_length)
    return Error{ErrorKind::kInvalidArgument,
                 "`max_input_tokens` and `max_input_length` are the same setting; give only `max_input_tokens`"};
  const auto max_input = o.max_input_tokens ? o.max_input_tokens : o.max_input_length;
  if (max_input && o.max_total_tokens && *max_input >= *o.max_total_tokens)
    return Error::make(ErrorKind::kInvalidArgument, "`max_input_tokens` must be < `max_total_tokens`: {} >= {}",
                       *max_input, *o.max_total_tokens);
  if (o.max_total_tokens && *o.max_total_tokens < 2)
    return Error{ErrorKind::kInvalidArgument, "`max_total_tokens` must be at least 2"};
  if (o.max_batch_prefill_tokens && o.max_batch_total_tokens && *o.max_batch_prefill_tokens > *o.max_batch_total_tokens)
    return Error::make(ErrorKind::kInvalidArgument, "`max_batch_prefill_tokens` must be <= `max_batch_total_tokens`: {} > {}",
                       *o.max_batch_prefill_tokens, *o.max_batch_total_tokens);
  if (o.max_total_tokens && o.max_batch_total_tokens && *o.max_total_tokens > *o.max_batch_total_tokens)
    return Error::make(ErrorKind::kInvalidArgument, "`max_total_tokens` must be <= `max_batch_total_tokens`: {} > {}",
                       *o.max_total_tokens, *o.max_batch_total_tokens);
  if (o.max_batch_size && *o.max_batch_size <= 0) return Error{ErrorKind::kInvalidArgument, "`max_batch_size` must be > 0"};
  if (o.max_concurrent_requests <= 0) return Error{ErrorKind::kInvalidArgument, "`max_concurrent_requests` must be > 0"};
  if (o.port < 0 || o.port > 65535) return Error::make(ErrorKind::kInvalidArgument, "--port {} is out of range", o.port);
  if (o.payload_limit <= 0) return Error{ErrorKind::kInvalidArgument, "`payload_limit` must be > 0"};
  if (o.grammar_max_indent < 0 || o.grammar_max_indent > 1000)
    return Error{ErrorKind::kInvalidArgument, "--grammar-max-indent must be between 0 and 1000"};
  if (o.grammar_max_states < 1 || o.grammar_max_states > 100'000'000)
    return Error{ErrorKind::kInvalidArgument, "--grammar-max-states must be between 1 and 100000000"};
  if (o.grammar_max_rules < 1 || o.grammar_max_rules > 100'000'000)
    return Error{ErrorKind::kInvalidArgument, "--grammar-max-rules must be between 1 and 100000000"};
  if (o.usage_stats != "on" && o.usage_stats != "off" && o.usage_stats != "no-stack")
    return Error::make(ErrorKind::kInvalidArgument, "--usage-stats must be on, off or no-stack, got {:?}", o.usage_stats);
  if (o.http_threads < 1) return Error{ErrorKind::kInvalidArgument, "--http-threads must be >= 1"};
  for (const auto& [name, seconds] : {std::pair{"--idle-timeout", o.idle_timeout},
                                      std::pair{"--request-header-timeout", o.request_header_timeout},
                                      std::pair{"--request-body-timeout", o.request_body_timeout}})
    if (!(seconds > 0 && seconds <= 86400))
      return Error{ErrorKind::kInvalidArgument, fmt::format("{} must be > 0 and <= 86400 seconds", name)};
  if (o.max_connections < 1) return Error{ErrorKind::kInvalidArgument, "--max-connections must be >= 1"};
  if (o.max_stream_backlog_bytes < 1024)
    return Error{ErrorKind::kInvalidArgument, "--max-stream-backlog-bytes must be >= 1024"};
  return {};
}

std::string describe_launch_options(const LaunchOptions& o) {
  return fmt::format(
      "Args {{ model_id: {:?}, revision: {}, validation_workers: {}, sharded: {}, num_shard: {}, quantize: "
      "{}, "
      "speculate: {}, speculative_model_id: {}, dtype: {}, kv_cache_dtype: {}, trust_remote_code: {}, "
      "max_concurrent_requests: {}, "
      "max_best_of: {}, max_stop_sequences: {}, max_top_n_tokens: {}, max_input_tokens: {}, "
      "max_input_length: {}, "
      "max_total_tokens: {}, waiting_served_ratio: {}, max_batch_prefill_tokens: {}, max_batch_total_tokens: "
      "{}, "
      "max_waiting_tokens: {}, max_batch_size: {}, cuda_graphs: {}, hostname: {:?}, port: {}, "
      "prometheus_port: {}, "
      "json_output: {}, cors_allow_origin: {}, api_key: {}, tokenizer_config_path: {}, "
      "disable_grammar_support: {}, "
      "max_client_batch_size: {}, payload_limit: {}, enable_prefill_logprobs: {}, "
      "graceful_termination_timeout: {}, "
      "unix_socket: {}, http_threads: {} }}",
      o.model_id.value_or(TGI_DEFAULT_MODEL_DIR), show(o.revision), o.validation_workers, show(o.sharded),
      show(o.num_shard), show(o.quantize), show(o.speculate), show(o.speculative_model_id), show(o.dtype),
      show(o.kv_cache_dtype), o.trust_remote_code, o.max_concurrent_requests, o.max_best_of,
      o.max_stop_sequences, o.max_top_n_tokens, show(o.max_input_tokens), show(o.max_input_length),
      show(o.max_total_tokens), o.waiting_served_ratio, show(o.max_batch_prefill_tokens),
      show(o.max_batch_total_tokens), o.max_waiting_tokens, show(o.max_batch_size), show(o.cuda_graphs),
      o.hostname, o.port, o.prometheus_port, o.json_output,
      fmt::format("{}", fmt::join(o.cors_allow_origin, ",")), o.api_key ? "Some(<redacted>)" : "None",
      show(o.tokenizer_config_path), o.disable_grammar_support, o.max_client_batch_size, o.payload_limit,
      o.enable_prefill_logprobs, o.graceful_termination_timeout, show(o.unix_socket), o.http_threads);
}

}  // namespace tgi::server
