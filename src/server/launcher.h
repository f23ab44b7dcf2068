#pragma once
// `tgi serve`: the serving lifecycle — validate the options, load tokenizer, chat template, model
// and engine, listen, and shut down gracefully on SIGINT/SIGTERM.
#include "server/launch_options.h"

namespace tgi::server {

// Runs until SIGINT/SIGTERM; returns the process exit status.
int run_server(const LaunchOptions& options);

}  // namespace tgi::server
