#include "server/startup_summary.h"

#include <fmt/format.h>

#include "core/progress.h"

namespace tgi::server {

namespace {

using Json = nlohmann::ordered_json;

}  // namespace

std::string startup_summary_text(const StartupSummary& s) {
  std::vector<std::string> parts;

  std::string model = s.architecture;
  if (s.parameters > 0)
    model += fmt::format("{}{} params", model.empty() ? "" : " ",
                         format_quantity(static_cast<double>(s.parameters)));
  parts.push_back(model);

  std::string weights = join_nonempty(s.weight_formats, " + ");
  if (s.weights_bytes > 0) {
    const std::string size = format_bytes(static_cast<double>(s.weights_bytes));
    weights = weights.empty() ? "weights " + size : weights + " (" + size + ")";
  }
  parts.push_back(weights);

  std::string compute = s.isa;
  for (const auto& feature : s.isa_features) compute += "+" + feature;
  if (s.threads > 0) compute += fmt::format("{}x{} threads", compute.empty() ? "" : " ", s.threads);
  parts.push_back(compute);

  if (!s.kv_cache_dtype.empty() || s.kv_budget_tokens > 0) {
    std::string kv = "KV cache";
    if (!s.kv_cache_dtype.empty()) kv += " " + s.kv_cache_dtype;
    if (s.kv_budget_tokens > 0) kv += fmt::format(" {} tokens", s.kv_budget_tokens);
    if (s.kv_budget_bytes > 0)
      kv += fmt::format(" ({})", format_bytes(static_cast<double>(s.kv_budget_bytes)));
    parts.push_back(kv);
  }
  if (s.max_total_tokens > 0) {
    std::string context = fmt::format("context {}", s.max_total_tokens);
    if (s.max_input_tokens > 0) context += fmt::format(" (input {})", s.max_input_tokens);
    parts.push_back(context);
  }
  if (s.max_concurrent_requests > 0)
    parts.push_back(fmt::format("{} concurrent requests", s.max_concurrent_requests));

  return fmt::format("Ready in {}: {}", format_duration(s.load_seconds), join_nonempty(parts, ", "));
}

std::vector<LogField> startup_summary_fields(const StartupSummary& s) {
  return {
      {"load_seconds", s.load_seconds},
      {"architecture", s.architecture},
      {"parameters", s.parameters},
      {"weight_formats", Json(s.weight_formats)},
      {"weights_bytes", s.weights_bytes},
      {"isa", s.isa},
      {"isa_features", Json(s.isa_features)},
      {"threads", s.threads},
      {"kv_cache_dtype", s.kv_cache_dtype},
      {"kv_budget_tokens", s.kv_budget_tokens},
      {"kv_budget_bytes", s.kv_budget_bytes},
      {"max_total_tokens", s.max_total_tokens},
      {"max_input_tokens", s.max_input_tokens},
      {"max_concurrent_requests", s.max_concurrent_requests},
  };
}

LogEvent startup_summary_event(const StartupSummary& s) {
  LogEvent event;
  event.level = spdlog::level::info;
  event.target = "tgi::startup";
  event.fields = startup_summary_fields(s);
  event.message = startup_summary_text(s);
  return event;
}

void log_startup_summary(const StartupSummary& summary) {
  log_event(startup_summary_event(summary));
}

}  // namespace tgi::server
