#include "cli/commands.h"

namespace tgi::cli {

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Greedy generation from a prompt or token ids (debugging)");
  cmd->allow_extras();
  cmd->callback([] { fail_not_implemented("generate", "the dense forward-pass issue"); });
}

}  // namespace tgi::cli
