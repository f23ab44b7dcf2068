#include "formats/strict_json.h"

#include <set>
#include <string>
#include <vector>

namespace tgi::formats {
namespace {

// Nesting depth of brackets outside strings. Scanning first keeps the parser's own stacks
// small even for a hostile 100 MB run of '['.
int max_nesting(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return deepest;
}

}  // namespace

Result<nlohmann::json> parse_strict_json(std::string_view text, std::string_view what,
                                         StrictJsonOptions options) {
  using json = nlohmann::json;
  if (max_nesting(text) > options.max_depth) {
    return Error::make(ErrorKind::kCorruptData, "{}: JSON nested deeper than {} levels", what,
                       options.max_depth);
  }
  // keys_at_depth[d] holds the keys seen so far in the object currently open at depth d-1.
  std::vector<std::set<std::string>> keys_at_depth(static_cast<size_t>(options.max_depth) + 2);
  std::string duplicate_key;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    auto d = static_cast<size_t>(depth);
    if (d + 1 >= keys_at_depth.size()) return true;  // cannot happen after the depth scan
    if (event == json::parse_event_t::object_start) {
      keys_at_depth[d + 1].clear();
    } else if (event == json::parse_event_t::key && parsed.is_string()) {
      if (!keys_at_depth[d].insert(parsed.get_ref<const std::string&>()).second && duplicate_key.empty()) {
        duplicate_key = parsed.get<std::string>();
      }
    }
    return true;
  };
  json value;
  try {
    value = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true);
  } catch (const json::exception& e) {
    return Error::make(ErrorKind::kCorruptData, "{}: invalid JSON: {}", what, e.what());
  }
  if (!duplicate_key.empty()) {
    return Error::make(ErrorKind::kCorruptData, "{}: duplicate key \"{}\"", what, duplicate_key);
  }
  return value;
}

}  // namespace tgi::formats
