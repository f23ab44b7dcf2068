// `tgi download MODEL_ID [--revision R]`: fetch what serving needs from the hub into the HF cache
// (the same place `serve --model-id` looks), then print the snapshot directory on stdout.
#include <unistd.h>

#include <memory>
#include <string>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "formats/model_id.h"

namespace tgi::cli {

void add_download_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "download",
      "Download a model's config, tokenizer and safetensors files from the Hugging Face hub into the local "
      "cache ($HF_HOME/hub), resuming partial files; prints the snapshot directory");
  auto model_id = std::make_shared<std::string>();
  auto revision = std::make_shared<std::string>("main");
  cmd->add_option("model_id", *model_id, "Hub model id, e.g. Qwen/Qwen3-0.6B")->required();
  cmd->add_option("--revision", *revision, "Branch, tag or commit")->capture_default_str();
  cmd->footer(
      "Environment: HF_ENDPOINT (hub URL), HF_TOKEN (private/gated repositories), HF_HOME / HF_HUB_CACHE "
      "(cache location), HF_HUB_OFFLINE=1 (no network: only report the cached snapshot).");
  cmd->callback([model_id, revision] {
    // Progress and logs go to stderr so stdout carries only the resulting path.
    spdlog::set_default_logger(spdlog::stderr_color_st("download"));
    auto options = formats::ResolveOptions::from_environment();
    options.revision = *revision;
    options.show_progress = true;  // a bar on a terminal, a line every tenth in a log (core/progress.h)
    auto dir = formats::download_model(*model_id, options);
    if (!dir.ok()) {
      fmt::print(stderr, "tgi download: {}\n", dir.error().message);
      throw CLI::RuntimeError(1);
    }
    fmt::print("{}\n", dir->string());
  });
}

}  // namespace tgi::cli
