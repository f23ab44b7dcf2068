#include "cli/commands.h"

namespace tgi::cli {

void add_tokenize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "Tokenize JSON strings read from stdin, one per line");
  cmd->allow_extras();
  cmd->callback([] { fail_not_implemented("tokenize", "the tokenizer issue"); });
}

}  // namespace tgi::cli
