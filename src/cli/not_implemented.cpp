#include <fmt/format.h>

#include "cli/commands.h"

namespace tgi::cli {

void fail_not_implemented(const std::string& command, const std::string& tracking_issue) {
  fmt::print(stderr, "tgi {}: not implemented yet in this build ({})\n", command, tracking_issue);
  throw CLI::RuntimeError(2);
}

}  // namespace tgi::cli
