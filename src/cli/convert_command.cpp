#include "cli/commands.h"

namespace tgi::cli {

void add_convert_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "Convert a model to GGUF");
  cmd->allow_extras();
  cmd->callback([] { fail_not_implemented("convert", "the CPU speed issue"); });
}

}  // namespace tgi::cli
