#include "server/launcher.h"

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "backend/load_quantization.h"
#include "chat/chat_template.h"
#include "core/progress.h"
#include "engine/engine.h"
#include "engine/kv_budget.h"
#include "formats/model_id.h"
#include "grammar/constraint.h"
#include "kernels/cpu/gemm/cpu_isa.h"
#include "model/causal_lm.h"
#include "server/api.h"
#include "server/engine_backend.h"
#include "server/http_server.h"
#include "server/log_format.h"
#include "server/model_tokenizer.h"
#include "server/shutdown_signal.h"
#include "server/startup_gate.h"
#include "server/startup_summary.h"
#include "tokenizer/tokenizer.h"

namespace tgi::server {

namespace {

// chat_template.json overrides tokenizer_config.json's template (spec §6.1); --tokenizer-config-path
// points at an alternative tokenizer_config.json.
std::optional<std::string> find_chat_template(const std::filesystem::path& dir, const tokenizer::Tokenizer& tok,
                                              const std::optional<std::string>& tokenizer_config_path) {
  auto read_template = [](const std::filesystem::path& file) -> std::optional<std::string> {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("chat_template")) return std::nullopt;
    const auto& t = j["chat_template"];
    if (t.is_string()) return t.get<std::string>();
    if (t.is_array())
      for (const auto& entry : t)
        if (entry.value("name", "") == "default" && entry.contains("template")) return entry["template"].get<std::string>();
    return std::nullopt;
  };
  if (auto t = read_template(dir / "chat_template.json")) return t;
  if (tokenizer_config_path) {
    if (auto t = read_template(*tokenizer_config_path)) return t;
  }
  if (tok.config().chat_template) return tok.config().chat_template;
  return read_template(dir / "processor_config.json");
}

}  // namespace

int run_server(const LaunchOptions& o) {
  // Before any thread starts, so every thread inherits the blocked mask: SIGINT/SIGTERM end a
  // start-up at once and drain a running server.
  ShutdownSignal shutdown_signal;

  configure_logging(o.json_output);
  if (!o.model_id) {
    spdlog::info("No --model-id given: serving the bundled default model at {} (random weights, for trying the API)",
                 TGI_DEFAULT_MODEL_DIR);
  } else {
    spdlog::info("Serving model {}", *o.model_id);
  }
  spdlog::info("{}", describe_launch_options(o));
  if (auto valid = validate_launch_options(o); !valid.ok()) {
    spdlog::error("{}", valid.error().message);
    return 1;
  }
  if (o.cuda_graphs || o.disable_custom_kernels || o.cuda_memory_fraction != 1.0)
    spdlog::warn("--cuda-graphs, --disable-custom-kernels and --cuda-memory-fraction have no effect on the CPU backend");
  if (o.trust_remote_code) spdlog::warn("--trust-remote-code has no effect: this server never runs model code from the Hub");
  if (o.env) spdlog::info("Runtime environment: tgi-cpp {} (TGI API {}), CPU backend", TGI_VERSION, kTgiVersion);
  const auto load_started = std::chrono::steady_clock::now();

  // The port first: while the model loads, every route answers 503 "Model is loading", so a
  // health check waits instead of failing to connect, and a busy port fails in milliseconds, not
  // after the load. The Api outlives the server's threads (declared first, destroyed last).
  std::unique_ptr<Api> api;
  StartupGate gate;
  HttpServerOptions http_options;
  http_options.threads = static_cast<int>(o.http_threads);
  http_options.payload_limit = o.payload_limit;
  auto millis = [](double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
  };
  http_options.idle_timeout = millis(o.idle_timeout);
  http_options.header_timeout = millis(o.request_header_timeout);
  http_options.body_timeout = millis(o.request_body_timeout);
  http_options.max_connections = o.max_connections;
  http_options.max_stream_backlog_bytes = o.max_stream_backlog_bytes;
  HttpServer http(http_options, gate.handler());
  if (auto listening = http.listen_tcp(o.hostname, static_cast<uint16_t>(o.port)); !listening.ok()) {
    spdlog::error("{}", listening.error().message);
    return 1;
  }
  if (o.unix_socket) {
    if (auto listening = http.listen_unix(*o.unix_socket); !listening.ok()) {
      spdlog::error("{}", listening.error().message);
      return 1;
    }
  }
  http.start();
  spdlog::info("Listening on http://{}:{} while the model loads (every route answers 503 until it is ready)",
               o.hostname, http.port());

  // Model files: a GGUF file, a local directory or a Hub id (--model-id, and the draft's).
  auto resolve_files = [&](const std::string& id) -> std::optional<std::filesystem::path> {
    if (model::is_gguf_file(id)) return std::filesystem::absolute(id);  // the model in one file
    auto resolve = formats::ResolveOptions::from_environment();
    if (o.revision) resolve.revision = *o.revision;
    if (o.huggingface_hub_cache) resolve.cache_dir = *o.huggingface_hub_cache;
    resolve.show_progress = true;
    auto resolved = formats::resolve_model_id(id, resolve);
    if (!resolved.ok()) {
      spdlog::error("cannot find model {}: {}", id, resolved.error().message);
      return std::nullopt;
    }
    return *resolved;
  };
  std::filesystem::path model_dir = TGI_DEFAULT_MODEL_DIR;
  if (o.model_id) {
    auto found = resolve_files(*o.model_id);
    if (!found) return 1;
    model_dir = *found;
  }
  auto tok = load_model_tokenizer(model_dir);
  if (!tok.ok()) {
    spdlog::error("cannot load the tokenizer from {}: {}", model_dir.string(), tok.error().message);
    return 1;
  }
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer = std::move(*tok);
  std::optional<chat::ChatTemplate> chat_template;
  if (auto source = find_chat_template(tokenizer_dir_for(model_dir), *tokenizer, o.tokenizer_config_path)) {
    auto parsed = chat::ChatTemplate::parse(*source);
    if (parsed.ok()) chat_template = std::move(*parsed);
    else spdlog::warn("the chat template does not compile, chat requests will fail: {}", parsed.error().message);
  } else {
    spdlog::warn("no chat template found: /v1/chat/completions will answer 422 template_error");
  }
  model::LoadOptions load;
  load.num_threads = static_cast<int>(o.num_threads);
  load.dtype = o.dtype.value_or("");
  if (o.kv_cache_dtype) {
    load.kv_cache_dtype = *kernels::parse_kv_dtype(*o.kv_cache_dtype);  // validated with the other flags
    spdlog::info("KV cache stores {}", kernels::to_string(load.kv_cache_dtype));
  }
  if (o.quantize) {
    // validate_launch_options accepted the method, so it maps onto one of ours.
    auto format = backend::parse_load_quantization(load_quantization_for(*o.quantize).value_or(*o.quantize));
    if (!format.ok()) {
      spdlog::error("{}", format.error().message);
      return 1;
    }
    load.quantize = *format;
    spdlog::info("quantizing float projection weights to {} at load (--quantize {})", kernels::to_string(*format),
                 *o.quantize);
  }
  // Progress on placing the weights, the part of a load that takes time (a bar on a terminal,
  // plain or JSON lines in a log).
  std::optional<Progress> load_progress;
  load.on_progress = [&load_progress](int64_t done, int64_t total) {
    if (!load_progress) load_progress.emplace("Loading weights", static_cast<uint64_t>(total));
    load_progress->update(static_cast<uint64_t>(done));
  };
  auto loaded = model::load_causal_lm(model_dir, load);
  if (load_progress) {
    if (loaded.ok())
      load_progress->finish();
    else
      load_progress->abandon();
  }
  if (!loaded.ok()) {
    spdlog::error("cannot load the model from {}: {}", model_dir.string(), loaded.error().message);
    return 1;
  }
  // The draft model for speculation, loaded like the model (same threads, dtype, quantization).
  std::unique_ptr<model::CausalLm> draft;
  if (o.speculative_model_id) {
    auto found = resolve_files(*o.speculative_model_id);
    if (!found) return 1;
    model::LoadOptions draft_load = load;
    draft_load.on_progress = nullptr;
    auto loaded_draft = model::load_causal_lm(*found, draft_load);
    if (!loaded_draft.ok()) {
      spdlog::error("cannot load the draft model from {}: {}", found->string(), loaded_draft.error().message);
      return 1;
    }
    draft = std::move(*loaded_draft);
    spdlog::info("draft model for speculation: {}", found->string());
  }
  const model::ModelConfig model_config = (*loaded)->config();
  const model::WeightsFootprint footprint = (*loaded)->weights_footprint();
  const std::string dtype = o.dtype.value_or(model_config.torch_dtype.empty() ? "float32" : model_config.torch_dtype);

  // Engine.
  engine::EngineConfig engine_config;
  const int64_t max_position = model_config.max_position_embeddings > 0 ? model_config.max_position_embeddings : 4096;
  engine_config.max_batch_prefill_tokens =
      static_cast<int32_t>(o.max_batch_prefill_tokens.value_or(std::min<int64_t>(4096, max_position)));
  engine_config.max_batch_total_tokens = static_cast<int32_t>(o.max_batch_total_tokens.value_or(0));
  engine_config.max_batch_size = static_cast<int32_t>(o.max_batch_size.value_or(0));
  // The server admits requests (--max-concurrent-requests); the engine must never refuse one it let in.
  engine_config.max_concurrent_requests = static_cast<int32_t>(o.max_concurrent_requests * std::max<int64_t>(1, o.max_best_of));
  engine_config.max_waiting_tokens = static_cast<int32_t>(o.max_waiting_tokens);
  engine_config.waiting_served_ratio = static_cast<float>(o.waiting_served_ratio);
  for (int64_t id : model_config.eos_token_ids) engine_config.eos_token_ids.push_back(static_cast<int32_t>(id));
  // generation_config.json often lists more end tokens than config.json (llama3's <|eot_id|>);
  // TGI stops on all of them.
  if (auto generation = model::load_generation_config(model_dir); generation.ok()) {
    for (int64_t id : generation->eos_token_ids) engine_config.eos_token_ids.push_back(static_cast<int32_t>(id));
  } else {
    spdlog::warn("ignoring generation_config.json: {}", generation.error().message);
  }
  engine_config.sliding_window = static_cast<int32_t>(model_config.sliding_window);
  // A draft model without --speculate proposes up to 4 tokens per step.
  engine_config.speculation.max_tokens = static_cast<int32_t>(o.speculate.value_or(draft ? 4 : 0));
  engine_config.speculation.cost_aware = o.speculation_policy == "cost";

  // The context a request may use (TGI's defaults, spec §5.6): the position limit, the
  // tokenizer's limit, or --max-total-tokens. The default KV budget holds that context for the
  // batch the server is configured for, within the memory left after the weights.
  int64_t context = max_position;
  if (tokenizer->config().model_max_length)
    context = std::min<int64_t>(context, static_cast<int64_t>(*tokenizer->config().model_max_length));
  if (o.max_total_tokens) context = *o.max_total_tokens;
  const size_t kv_bytes_per_token = (*loaded)->kv_bytes_per_token();
  if (!o.max_batch_total_tokens) {
    auto tokens =
        engine::default_kv_tokens(context, o.max_batch_size.value_or(engine::kDefaultKvSequences),
                                  engine_config.kv_cache_memory_fraction, (*loaded)->memory().available_bytes,
                                  kv_bytes_per_token, engine_config.block_size);
    if (!tokens.ok()) {
      spdlog::error("cannot size the KV cache: {}", tokens.error().message);
      return 1;
    }
    engine_config.max_batch_total_tokens = static_cast<int32_t>(*tokens);
    if (!o.max_batch_prefill_tokens)
      engine_config.max_batch_prefill_tokens =
          std::min(engine_config.max_batch_prefill_tokens, engine_config.max_batch_total_tokens);
  }
  auto created = engine::Engine::create(std::move(*loaded), tokenizer, engine_config, std::move(draft));
  if (!created.ok()) {
    spdlog::error("cannot start the engine: {}", created.error().message);
    return 1;
  }
  std::shared_ptr<engine::Engine> engine = std::move(*created);
  const int64_t kv_budget = engine->max_total_tokens_budget();

  // Limits: TGI's defaults (§5.6) — max_total_tokens from the KV budget, position limit and
  // tokenizer limit; max_input_tokens one less.
  int64_t max_total = std::min<int64_t>(kv_budget, context);
  if (o.max_total_tokens) {
    if (*o.max_total_tokens > kv_budget) {
      spdlog::error("Not enough memory to handle max_total_tokens={} (KV budget {} tokens)", *o.max_total_tokens, kv_budget);
      return 1;
    }
    max_total = *o.max_total_tokens;
  }
  const auto max_input_flag = o.max_input_tokens ? o.max_input_tokens : o.max_input_length;
  const int64_t max_input = max_input_flag.value_or(max_total - 1);
  if (max_input >= max_total) {
    spdlog::error("`max_input_tokens` must be < `max_total_tokens`: {} >= {}", max_input, max_total);
    return 1;
  }

  ServerConfig config;
  config.hostname = o.hostname;
  config.port = http.port();
  config.unix_socket_path = o.unix_socket;
  config.threads = static_cast<int>(o.http_threads);
  config.max_concurrent_requests = o.max_concurrent_requests;
  config.payload_limit = o.payload_limit;
  config.validation_workers = o.validation_workers;
  config.api_key = o.api_key;
  config.cors_allow_origin = o.cors_allow_origin;
  if (const char* compute_type = std::getenv("COMPUTE_TYPE")) config.compute_type = compute_type;
  config.enable_prefill_logprobs = o.enable_prefill_logprobs;
  config.separate_reasoning = o.reasoning_format != "none";
  config.limits.max_best_of = o.max_best_of;
  config.limits.max_stop_sequences = o.max_stop_sequences;
  config.limits.max_top_n_tokens = o.max_top_n_tokens;
  config.limits.max_input_tokens = max_input;
  config.limits.max_total_tokens = max_total;
  config.limits.max_client_batch_size = o.max_client_batch_size;
  config.limits.grammar_supported = !o.disable_grammar_support;
  grammar::ConstraintOptions constraints;
  constraints.whitespace = o.grammar_whitespace == "compact" ? grammar::JsonWhitespace::kCompact
                                                             : grammar::JsonWhitespace::kBounded;
  constraints.max_indent = static_cast<uint32_t>(o.grammar_max_indent);
  constraints.limits.max_lexeme_states = static_cast<uint64_t>(o.grammar_max_states);
  constraints.limits.max_states_per_lexeme = static_cast<uint32_t>(
      std::min<int64_t>(o.grammar_max_states, constraints.limits.max_states_per_lexeme));
  constraints.limits.max_rules = static_cast<uint32_t>(o.grammar_max_rules);
  grammar::set_constraint_options(constraints);
  config.model.model_id = o.model_id.value_or(TGI_DEFAULT_MODEL_DIR);
  config.model.dtype = dtype;
  config.model.kv_budget_tokens = kv_budget;
  spdlog::info("Limits: max_input_tokens={} max_total_tokens={} max_concurrent_requests={}", max_input, max_total,
               o.max_concurrent_requests);

  api = std::make_unique<Api>(config);
  api->set_backend(std::make_shared<EngineBackend>(engine, tokenizer, std::move(chat_template)));
  // TGI also serves the metrics on --prometheus-port, at any path. A busy port is not fatal.
  HttpServerOptions prometheus_options = http_options;
  prometheus_options.threads = 1;
  prometheus_options.payload_limit = 1024;
  HttpServer prometheus(prometheus_options, [&api](HttpRequest, std::shared_ptr<ResponseChannel> channel) {
    HttpRequest metrics_request;
    metrics_request.method = "GET";
    metrics_request.path = "/metrics";
    api->handler()(std::move(metrics_request), std::move(channel));
  });
  if (auto listening = prometheus.listen_tcp(o.hostname, static_cast<uint16_t>(o.prometheus_port)); !listening.ok()) {
    spdlog::warn("metrics stay on /metrics only: {}", listening.error().message);
  }
  prometheus.start();
  gate.open(api->handler());

  StartupSummary summary;
  summary.architecture = model_config.model_type;
  summary.parameters = footprint.parameters;
  const std::string container = model::is_gguf_file(model_dir) ? "GGUF" : "safetensors";
  for (const std::string& format : footprint.formats) {
    std::string upper = format;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    summary.weight_formats.push_back(summary.weight_formats.empty() ? upper + " " + container : upper);
  }
  if (o.quantize && !summary.weight_formats.empty()) summary.weight_formats.front() += " (quantized at load)";
  summary.weights_bytes = static_cast<uint64_t>(footprint.bytes);
  summary.isa = kernels::to_string(kernels::active_cpu_isa());
  if (kernels::active_cpu_isa() == kernels::CpuIsa::kAvx512) {
    if (kernels::cpu_has_avx512_vnni()) summary.isa_features.push_back("vnni");
    if (kernels::cpu_has_avx512_bf16()) summary.isa_features.push_back("bf16");
  }
  summary.threads =
      o.num_threads > 0 ? o.num_threads : static_cast<int64_t>(std::thread::hardware_concurrency());
  summary.kv_cache_dtype = kernels::to_string(load.kv_cache_dtype);
  summary.kv_budget_tokens = kv_budget;
  summary.kv_budget_bytes = static_cast<uint64_t>(kv_budget) * kv_bytes_per_token;
  summary.max_total_tokens = max_total;
  summary.max_input_tokens = max_input;
  summary.max_concurrent_requests = o.max_concurrent_requests;
  summary.load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_started).count();
  log_startup_summary(summary);
  spdlog::info("Connected: serving {} on http://{}:{}", config.model.model_id, o.hostname, http.port());

  shutdown_signal.mark_ready();
  const int received = shutdown_signal.wait();
  spdlog::info("Received {}: stopping (finishing in-flight requests, up to {} s)",
               received == SIGTERM ? "SIGTERM" : "SIGINT", o.graceful_termination_timeout);
  http.stop_accepting();
  prometheus.stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.graceful_termination_timeout);
  while (http.responses_in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (http.responses_in_flight() > 0)
    spdlog::warn("{} requests still running at the graceful termination timeout", http.responses_in_flight());
  engine->shutdown();
  http.stop();
  spdlog::info("Shutdown complete");
  return 0;
}

}  // namespace tgi::server
