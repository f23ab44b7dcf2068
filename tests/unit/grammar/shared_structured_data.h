#pragma once
// The structured-output test data beside the project (../shared/structured), read at run time;
// tests skip when it is absent.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tgi::grammar::testing {

inline std::string shared_structured_path(const std::string& name) {
  return std::string(TGI_SOURCE_DIR) + "/../shared/structured/" + name;
}

// The elements of a JSON array file, or nothing when the file is missing or not an array.
inline std::vector<nlohmann::json> load_json_array(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json data = nlohmann::json::parse(buffer.str(), nullptr, false);
  if (!data.is_array()) return {};
  return std::vector<nlohmann::json>(data.begin(), data.end());
}

}  // namespace tgi::grammar::testing
