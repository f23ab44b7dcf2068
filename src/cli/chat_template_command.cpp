#include "cli/commands.h"

namespace tgi::cli {

void add_chat_template_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("chat-template", "Render a chat template for a list of messages");
  cmd->allow_extras();
  cmd->callback([] { fail_not_implemented("chat-template", "the chat-template issue"); });
}

}  // namespace tgi::cli
