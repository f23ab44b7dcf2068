#include "cli/commands.h"

namespace tgi::cli {

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve a model over HTTP (TGI and OpenAI APIs)");
  cmd->allow_extras();
  cmd->callback([] { fail_not_implemented("serve", "the HTTP server issue"); });
}

}  // namespace tgi::cli
