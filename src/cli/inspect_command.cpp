#include "cli/commands.h"

namespace tgi::cli {

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Describe a model");
  cmd->allow_extras();
  cmd->callback([] { fail_not_implemented("inspect", " architecture, parameters, dtypes, support:the foundation issue"); });
}

}  // namespace tgi::cli
