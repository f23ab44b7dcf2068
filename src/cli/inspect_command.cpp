// `tgi inspect --model-id X`: what a model is (architecture, size, dtypes, tensors) and what the
// engine would do with it (serve it, or why not). `--json` gives the same as one JSON object.
#include <unistd.h>

#include <map>
#include <memory>
#include <regex>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "formats/gguf_file.h"
#include "formats/model_id.h"
#include "formats/safetensors.h"
#include "model/causal_lm.h"
#include "model/gguf_model_config.h"
#include "model/gguf_tensor_source.h"
#include "model/model_config.h"
#include "model/safetensors_tensor_source.h"
#include "model/weight_loader.h"

namespace tgi::cli {
namespace {

using nlohmann::ordered_json;

struct DtypeTally {
  int64_t tensors = 0;
  int64_t parameters = 0;
  uint64_t bytes = 0;
};

// Tensors that differ only in layer/expert index: "model.layers.*.mlp.down_proj.weight".
struct TensorGroup {
  std::string pattern;
  std::string dtype;
  std::vector<int64_t> shape;
  int64_t count = 0;
};

std::string index_pattern(const std::string& name) {
  static const std::regex kIndex(R"(\.(\d+)(?=\.|$))");
  return std::regex_replace(name, kIndex, ".*");
}

std::string human_count(int64_t n) {
  if (n >= 1'000'000'000) return fmt::format("{:.2f} B", n / 1e9);
  if (n >= 1'000'000) return fmt::format("{:.2f} M", n / 1e6);
  if (n >= 1'000) return fmt::format("{:.1f} K", n / 1e3);
  return std::to_string(n);
}

std::string human_bytes(uint64_t n) {
  if (n >= (1ull << 30)) return fmt::format("{:.2f} GiB", n / double(1ull << 30));
  if (n >= (1ull << 20)) return fmt::format("{:.2f} MiB", n / double(1ull << 20));
  if (n >= (1ull << 10)) return fmt::format("{:.1f} KiB", n / double(1ull << 10));
  return fmt::format("{} B", n);
}

ordered_json config_summary(const model::ModelConfig& c) {
  ordered_json j;
  j["hidden_size"] = c.hidden_size;
  j["intermediate_size"] = c.intermediate_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.head_dim;
  j["vocab_size"] = c.vocab_size;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["rope_theta"] = c.rope.theta;
  j["rope_type"] = model::to_string(c.rope.type);
  j["hidden_act"] = model::to_string(c.hidden_act);
  j["sliding_window"] = c.sliding_window;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["torch_dtype"] = c.torch_dtype;
  if (c.is_moe()) {
    j["num_experts"] = c.num_experts;
    j["num_experts_per_tok"] = c.num_experts_per_tok;
  }
  if (c.kv_lora_rank > 0) j["kv_lora_rank"] = c.kv_lora_rank;
  return j;
}

// One stored tensor as inspect tallies it, whichever file format holds it.
struct StoredTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  int64_t elements = 0;
  uint64_t bytes = 0;
};

struct OpenedModel {
  std::string format;  // "safetensors" or "gguf"
  Result<model::ModelConfig> config = Error::make(ErrorKind::kInternal, "not read");
  std::vector<StoredTensor> tensors;
  int64_t num_files = 0;
  std::unique_ptr<model::TensorSource> source;  // null when the tensors could not be opened
  std::string tensor_error;
};

OpenedModel open_gguf(const std::filesystem::path& path) {
  OpenedModel m;
  m.format = "gguf";
  auto file = formats::GgufFile::open(path);
  if (!file.ok()) {
    m.config = file.error();
    m.tensor_error = file.error().message;
    return m;
  }
  m.config = model::gguf_model_config(**file);
  m.num_files = 1;
  for (const formats::GgufTensor& t : (*file)->tensors())
    m.tensors.push_back(
        {t.name, std::string(formats::ggml_type_name(t.type)), t.shape(), t.num_elements(), t.nbytes});
  auto source = model::GgufTensorSource::open(std::move(*file));
  if (source.ok())
    m.source = std::move(*source);
  else
    m.tensor_error = source.error().message;
  return m;
}

OpenedModel open_safetensors(const std::filesystem::path& dir) {
  OpenedModel m;
  m.format = "safetensors";
  m.config = model::load_model_config(dir);
  auto tensors = formats::SafetensorsModel::open_dir(dir);
  if (!tensors.ok()) {
    m.tensor_error = tensors.error().message;
    return m;
  }
  for (const formats::TensorView* view : (*tensors)->all())
    m.tensors.push_back({view->name, std::string(formats::dtype_name(view->dtype)), view->shape,
                         view->num_elements(), view->nbytes});
  m.num_files = static_cast<int64_t>((*tensors)->files().size());
  m.source = std::make_unique<model::SafetensorsTensorSource>(std::move(*tensors));
  return m;
}

// Everything inspect reports, as JSON; the text form is printed from it.
ordered_json inspect(const std::string& model_id, const std::filesystem::path& path) {
  ordered_json report;
  report["model_id"] = model_id;
  report["model_dir"] = path.string();
  std::vector<std::string> problems;

  const bool gguf = model::is_gguf_file(path);
  OpenedModel opened = gguf ? open_gguf(path) : open_safetensors(path);
  report["format"] = opened.format;
  const auto& config = opened.config;
  if (config.ok()) {
    report["model_type"] = config->model_type;
    report["architecture"] = config->architecture;
    report["config"] = config_summary(*config);
  } else {
    problems.push_back(std::string(gguf ? "GGUF metadata: " : "config.json: ") + config.error().message);
  }

  if (opened.source) {
    int64_t parameters = 0;
    int64_t routed_expert_parameters = 0;  // tensors of the routed experts (not shared experts)
    uint64_t bytes = 0;
    std::map<std::string, DtypeTally> by_dtype;
    std::map<std::tuple<std::string, std::string, std::vector<int64_t>>, int64_t> groups;
    std::vector<std::tuple<std::string, std::string, std::vector<int64_t>>> group_order;
    for (const StoredTensor& t : opened.tensors) {
      parameters += t.elements;
      // HF names routed experts "...experts.N..."; GGUF stacks them as "ffn_*_exps".
      if (t.name.find(".experts.") != std::string::npos || t.name.find("_exps.") != std::string::npos)
        routed_expert_parameters += t.elements;
      bytes += t.bytes;
      auto& tally = by_dtype[t.dtype];
      ++tally.tensors;
      tally.parameters += t.elements;
      tally.bytes += t.bytes;
      auto key = std::make_tuple(index_pattern(t.name), t.dtype, t.shape);
      if (groups[key]++ == 0) group_order.push_back(key);
    }
    report["parameters"] = parameters;
    // A token runs k of the E routed experts: the rest of their weights sit idle for it.
    if (config.ok() && config->is_moe() && config->num_experts > 0 && routed_expert_parameters > 0) {
      const int64_t idle = routed_expert_parameters / config->num_experts *
                           (config->num_experts - config->num_experts_per_tok);
      report["active_parameters_per_token"] = parameters - idle;
    }
    report["bytes"] = bytes;
    report["num_tensors"] = opened.tensors.size();
    report["num_files"] = opened.num_files;
    ordered_json dtypes = ordered_json::object();
    for (const auto& [name, tally] : by_dtype) {
      dtypes[name] = {{"tensors", tally.tensors}, {"parameters", tally.parameters}, {"bytes", tally.bytes}};
    }
    report["dtypes"] = dtypes;
    ordered_json list = ordered_json::array();
    for (const auto& key : group_order) {
      const auto& [pattern, dtype, shape] = key;
      list.push_back({{"name", pattern}, {"dtype", dtype}, {"shape", shape}, {"count", groups[key]}});
    }
    report["tensor_groups"] = list;
    if (config.ok()) {
      auto weights = model::load_weights(*config, *opened.source);
      if (!weights.ok()) problems.push_back("weights: " + weights.error().message);
    }
  } else {
    problems.push_back("weights: " + opened.tensor_error);
  }
  report["supported"] = problems.empty();
  report["problems"] = problems;
  return report;
}

void print_text(const ordered_json& r) {
  fmt::print("model:        {} ({})\n", r["model_dir"].get<std::string>(), r["format"].get<std::string>());
  if (r.contains("model_type")) {
    fmt::print("architecture: {} (model_type {})\n",
               r["architecture"].get<std::string>().empty() ? "-" : r["architecture"].get<std::string>(),
               r["model_type"].get<std::string>());
    const auto& c = r["config"];
    fmt::print("shape:        {} layers, hidden {}, intermediate {}, heads {} (kv {}, head_dim {}), vocab {}\n",
               c["num_hidden_layers"].get<int64_t>(), c["hidden_size"].get<int64_t>(),
               c["intermediate_size"].get<int64_t>(), c["num_attention_heads"].get<int64_t>(),
               c["num_key_value_heads"].get<int64_t>(), c["head_dim"].get<int64_t>(), c["vocab_size"].get<int64_t>());
    fmt::print("context:      {} positions, rope {} theta {}{}\n", c["max_position_embeddings"].get<int64_t>(),
               c["rope_type"].get<std::string>(), c["rope_theta"].get<double>(),
               c["sliding_window"].get<int64_t>() > 0
                   ? fmt::format(", sliding window {}", c["sliding_window"].get<int64_t>())
                   : std::string());
    if (c.contains("num_experts")) {
      fmt::print("experts:      {} routed, {} per token\n", c["num_experts"].get<int64_t>(),
                 c["num_experts_per_tok"].get<int64_t>());
    }
  }
  if (r.contains("parameters")) {
    fmt::print("parameters:   {} ({})\n", r["parameters"].get<int64_t>(), human_count(r["parameters"].get<int64_t>()));
    if (r.contains("active_parameters_per_token")) {
      const int64_t active = r["active_parameters_per_token"].get<int64_t>();
      fmt::print("active:       {} ({}) per token\n", active, human_count(active));
    }
    fmt::print("weights:      {} tensors in {} file(s), {}\n", r["num_tensors"].get<int64_t>(),
               r["num_files"].get<int64_t>(), human_bytes(r["bytes"].get<uint64_t>()));
    for (const auto& [dtype, tally] : r["dtypes"].items()) {
      fmt::print("  {:<8} {} tensors, {} parameters\n", dtype, tally["tensors"].get<int64_t>(),
                 human_count(tally["parameters"].get<int64_t>()));
    }
    fmt::print("tensors ({} kinds; * = layer/expert index):\n", r["tensor_groups"].size());
    constexpr size_t kShown = 60;
    size_t shown = 0;
    for (const auto& group : r["tensor_groups"]) {
      if (shown++ == kShown) {
        fmt::print("  ... {} more kinds (--json lists all)\n", r["tensor_groups"].size() - kShown);
        break;
      }
      fmt::print("  {:<56} {:<5} {:<16} x{}\n", group["name"].get<std::string>(), group["dtype"].get<std::string>(),
                 fmt::format("[{}]", fmt::join(group["shape"].get<std::vector<int64_t>>(), ", ")),
                 group["count"].get<int64_t>());
    }
  }
  if (r["supported"].get<bool>()) {
    fmt::print("supported:    yes: the architecture is implemented and every weight it needs is present\n");
  } else {
    fmt::print("supported:    no\n");
    for (const auto& problem : r["problems"]) fmt::print("  {}\n", problem.get<std::string>());
  }
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect",
                                 "Describe a model (directory or .gguf file): architecture, parameter count, "
                                 "dtypes, tensors, and whether it "
                                 "can be served");
  auto model_id = std::make_shared<std::string>();
  auto revision = std::make_shared<std::string>("main");
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("--model-id,model_id", *model_id, "Local directory, .gguf file or hub model id (org/name)")
      ->required();
  cmd->add_option("--revision", *revision, "Hub revision (branch, tag or commit)")->capture_default_str();
  cmd->add_flag("--json", *as_json, "Print the report as one JSON object");
  cmd->callback([model_id, revision, as_json] {
    spdlog::set_default_logger(spdlog::stderr_color_st("inspect"));
    auto options = formats::ResolveOptions::from_environment();
    options.revision = *revision;
    options.show_progress = ::isatty(STDERR_FILENO) != 0;
    auto dir = model::is_gguf_file(*model_id)
                   ? Result<std::filesystem::path>(std::filesystem::path(*model_id))
                   : formats::resolve_model_id(*model_id, options);
    if (!dir.ok()) {
      fmt::print(stderr, "tgi inspect: {}\n", dir.error().message);
      throw CLI::RuntimeError(1);
    }
    const ordered_json report = inspect(*model_id, *dir);
    if (*as_json) fmt::print("{}\n", report.dump(2));
    else print_text(report);
  });
}

}  // namespace tgi::cli
