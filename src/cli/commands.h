#pragma once
// Each subcommand of the `tgi` binary lives in its own file and registers itself on the app.
// A callback signals its exit status by throwing CLI::RuntimeError(code) (0 is success).
#include <CLI/CLI.hpp>

namespace tgi::cli {

void add_serve_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_chat_template_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_convert_command(CLI::App& app);
void add_download_command(CLI::App& app);
void add_inspect_command(CLI::App& app);

// For subcommands whose backend is not built yet: says so and exits 2.
[[noreturn]] void fail_not_implemented(const std::string& command, const std::string& tracking_issue);

}  // namespace tgi::cli
