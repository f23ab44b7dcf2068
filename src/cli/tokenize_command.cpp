// `tgi tokenize`: tokenize (or decode) JSON lines from stdin with a model's tokenizer, for tests
// and for users debugging prompts.
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "tokenizer/tokenize_stream.h"
#include "tokenizer/tokenizer.h"

namespace tgi::cli {

namespace {

struct TokenizeFlags {
  std::string model_dir;
  std::string tokenizer_file;
  bool no_special = false;
  bool decode = false;
  bool skip_special = false;
};

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto flags = std::make_shared<TokenizeFlags>();
  auto* cmd = app.add_subcommand("tokenize",
                                 "Tokenize JSON strings read from stdin, one per line (or decode id arrays with --decode)");
  auto* model = cmd->add_option("--model-id", flags->model_dir,
                                "Model directory with tokenizer.json (and tokenizer_config.json)");
  auto* file = cmd->add_option("--tokenizer", flags->tokenizer_file, "A tokenizer.json file");
  model->excludes(file);
  cmd->add_flag("--no-special", flags->no_special, "Do not add special tokens (bos/eos) when encoding");
  cmd->add_flag("--decode", flags->decode, "Read JSON arrays of token ids and write {\"text\": ...}");
  cmd->add_flag("--skip-special-tokens", flags->skip_special, "With --decode: leave special tokens out");
  cmd->callback([flags] {
    if (flags->model_dir.empty() == flags->tokenizer_file.empty()) {
      fmt::print(stderr, "tgi tokenize: give exactly one of --model-id DIR or --tokenizer FILE\n");
      throw CLI::RuntimeError(2);
    }
    auto tokenizer = flags->model_dir.empty() ? tokenizer::Tokenizer::from_file(flags->tokenizer_file)
                                              : tokenizer::Tokenizer::from_model_dir(flags->model_dir);
    if (!tokenizer.ok()) {
      fmt::print(stderr, "tgi tokenize: {}\n", tokenizer.error().message);
      throw CLI::RuntimeError(1);
    }
    tokenizer::TokenizeStreamOptions options;
    options.add_special_tokens = !flags->no_special;
    options.decode = flags->decode;
    options.skip_special_tokens = flags->skip_special;
    const size_t failures = tokenizer::run_tokenize_stream(**tokenizer, std::cin, std::cout, options);
    if (failures > 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace tgi::cli
