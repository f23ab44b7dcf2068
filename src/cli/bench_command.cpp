#include "cli/commands.h"

namespace tgi::cli {

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Benchmark prefill and decode over a grid of batch sizes");
  cmd->allow_extras();
  cmd->callback([] { fail_not_implemented("bench", "the CPU speed issue"); });
}

}  // namespace tgi::cli
