#pragma once
#include <string>

namespace tgi::cli {
// Version plus how this binary was built and what this CPU offers: printed by `tgi --version`.
std::string build_info();
}  // namespace tgi::cli
