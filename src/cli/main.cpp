// The `tgi` binary: one executable, one subcommand per task (see DESIGN.md, cli/).
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/build_info.h"
#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tgi: a native LLM inference server compatible with Text Generation Inference"};
  app.set_version_flag("--version", tgi::cli::build_info());
  app.require_subcommand(1);
  tgi::cli::add_serve_command(app);
  tgi::cli::add_generate_command(app);
  tgi::cli::add_tokenize_command(app);
  tgi::cli::add_chat_template_command(app);
  tgi::cli::add_bench_command(app);
  tgi::cli::add_convert_command(app);
  tgi::cli::add_download_command(app);
  tgi::cli::add_inspect_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
