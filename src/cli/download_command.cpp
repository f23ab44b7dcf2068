#include "cli/commands.h"

namespace tgi::cli {

void add_download_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("download", "Download a model from the Hugging Face hub into the local cache");
  cmd->allow_extras();
  cmd->callback([] { fail_not_implemented("download", "the foundation issue"); });
}

}  // namespace tgi::cli
