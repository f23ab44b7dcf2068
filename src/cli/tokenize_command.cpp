// `tgi tokenize`: tokenize (or decode) JSON lines from stdin with a model's tokenizer, for tests
// and for users debugging prompts.
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "formats/gguf_file.h"
#include "formats/gguf_tokenizer.h"
#include "model/causal_lm.h"
#include "server/model_tokenizer.h"
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

// The tokenizer a GGUF file carries in its tokenizer.ggml.* metadata.
Result<std::unique_ptr<tokenizer::Tokenizer>> tokenizer_from_gguf(const std::string& path) {
  TGI_ASSIGN_OR_RETURN(auto file, formats::GgufFile::open(path));
  TGI_ASSIGN_OR_RETURN(auto rebuilt, formats::gguf_tokenizer(*file));
  return tokenizer::Tokenizer::from_json(rebuilt.tokenizer_json, rebuilt.tokenizer_config);
}

Result<std::unique_ptr<tokenizer::Tokenizer>> load(const TokenizeFlags& flags) {
  if (!flags.model_dir.empty()) return server::load_model_tokenizer(flags.model_dir);
  if (model::is_gguf_file(flags.tokenizer_file)) return tokenizer_from_gguf(flags.tokenizer_file);
  return tokenizer::Tokenizer::from_file(flags.tokenizer_file);
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto flags = std::make_shared<TokenizeFlags>();
  auto* cmd = app.add_subcommand("tokenize",
                                 "Tokenize JSON strings read from stdin, one per line (or decode id arrays with --decode)");
  auto* model = cmd->add_option("--model-id", flags->model_dir,
                                "Model directory with tokenizer.json (and tokenizer_config.json), or a .gguf file");
  auto* file = cmd->add_option("--tokenizer", flags->tokenizer_file, "A tokenizer.json file, or a .gguf file (its tokenizer.ggml.* metadata)");
  model->excludes(file);
  cmd->add_flag("--no-special", flags->no_special, "Do not add special tokens (bos/eos) when encoding");
  cmd->add_flag("--decode", flags->decode, "Read JSON arrays of token ids and write {\"text\": ...}");
  cmd->add_flag("--skip-special-tokens", flags->skip_special, "With --decode: leave special tokens out");
  cmd->callback([flags] {
    if (flags->model_dir.empty() == flags->tokenizer_file.empty()) {
      fmt::print(stderr, "tgi tokenize: give exactly one of --model-id DIR or --tokenizer FILE\n");
      throw CLI::RuntimeError(2);
    }
    auto tokenizer = load(*flags);
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
