// The JSON-Schema compiler against labelled corpora: the official JSON-Schema-Test-Suite and the
// JSONSchemaBench / MaskBench instances in /work/shared/structured. An invalid instance that a
// compiled grammar accepts is a bug (must be zero); a valid instance it rejects is a narrowing
// (counted and printed); schemas we refuse cost coverage (printed per category).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "grammar/json_schema_compiler.h"

namespace tgi::grammar {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

const std::string kStructured = TGI_SOURCE_DIR "/../shared/structured";

std::string read_gzip(const std::string& path) {
  std::string out;
  const std::string command = "gzip -dc '" + path + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[1 << 16];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

// The schemas that apply to a value, in the order the compiler merges them ($ref target, the
// schema's own keywords, allOf, then anyOf / oneOf branches).
void collect(const Json& s, const Json& root, std::vector<const Json*>& out, int depth) {
  if (depth > 24 || !s.is_object()) return;
  if (std::find(out.begin(), out.end(), &s) != out.end()) return;
  auto ref = s.find("$ref");
  if (ref != s.end() && ref->is_string()) {
    const std::string& text = ref->get_ref<const std::string&>();
    if (!text.empty() && text[0] == '#') {
      try {
        const Json::json_pointer pointer(text.substr(1));
        if (root.contains(pointer)) collect(root.at(pointer), root, out, depth + 1);
      } catch (...) {
      }
    }
  }
  out.push_back(&s);
  for (const char* key : {"allOf", "anyOf", "oneOf"}) {
    auto it = s.find(key);
    if (it == s.end() || !it->is_array()) continue;
    for (const Json& sub : *it) collect(sub, root, out, depth + 1);
  }
  for (const char* key : {"then", "else"}) {
    if (s.contains(key)) collect(s[key], root, out, depth + 1);
  }
}

// `value` re-serialized in the order the grammar generates: declared properties first (in the
// order of the schemas that declare them), then required ones, then the rest as given.
Json reorder(const Json& value, const std::vector<const Json*>& schemas, const Json& root, int depth) {
  if (depth > 64) return value;
  if (value.is_object()) {
    std::vector<std::string> order;
    auto note = [&](const std::string& name) {
      if (value.contains(name) && std::find(order.begin(), order.end(), name) == order.end())
        order.push_back(name);
    };
    for (const Json* s : schemas) {
      auto props = s->find("properties");
      if (props != s->end() && props->is_object()) {
        for (const auto& [name, sub] : props->items()) note(name);
      }
    }
    for (const Json* s : schemas) {
      auto required = s->find("required");
      if (required != s->end() && required->is_array()) {
        for (const Json& name : *required) {
          if (name.is_string()) note(name.get<std::string>());
        }
      }
    }
    for (const auto& [name, sub] : value.items()) note(name);
    Json out = Json::object();
    for (const std::string& name : order) {
      std::vector<const Json*> child;
      for (const Json* s : schemas) {
        auto props = s->find("properties");
        if (props != s->end() && props->is_object() && props->contains(name)) {
          collect((*props)[name], root, child, 0);
        } else if (s->contains("additionalProperties")) {
          collect((*s)["additionalProperties"], root, child, 0);
        }
      }
      out[name] = reorder(value[name], child, root, depth + 1);
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (size_t i = 0; i < value.size(); ++i) {
      std::vector<const Json*> child;
      for (const Json* s : schemas) {
        for (const char* key : {"prefixItems", "items"}) {
          auto it = s->find(key);
          if (it == s->end()) continue;
          if (it->is_array() && i < it->size()) collect((*it)[i], root, child, 0);
          if (it->is_object() && std::string_view(key) == "items") collect(*it, root, child, 0);
        }
        auto more = s->find("additionalItems");
        if (more != s->end()) collect(*more, root, child, 0);
      }
      out.push_back(reorder(value[i], child, root, depth + 1));
    }
    return out;
  }
  return value;
}

bool accepted(const Grammar& grammar, const Json& data, const Json& schema) {
  std::vector<const Json*> schemas;
  collect(schema, schema, schemas, 0);
  const Json ordered = reorder(data, schemas, schema, 0);
  return grammar.accepts(ordered.dump()) || grammar.accepts(data.dump());
}

struct Tally {
  int schemas = 0, compiled = 0;
  int valid = 0, valid_accepted = 0;
  int invalid = 0, wrong_accepts = 0;
  std::vector<double> compile_ms;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

std::string reason_of(const std::string& message) {
  std::string m = message.substr(0, message.find(" at "));
  if (m.size() > 90) m.resize(90);
  return m;
}

TEST(JsonSchemaCorpus, OfficialTestSuite2020) {
  const std::string path = std::string(kStructured) + "/json-schema-test-suite/draft2020-12.json.gz";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "test suite not present";
  const Json suite = Json::parse(read_gzip(path));
  Tally t;
  std::vector<std::string> wrong;
  for (const auto& [file, groups] : suite.items()) {
    for (const Json& group : groups) {
      ++t.schemas;
      auto grammar = compile_json_schema(group["schema"]);
      if (!grammar.ok()) continue;
      ++t.compiled;
      for (const Json& test : group["tests"]) {
        const bool ok = accepted(*grammar, test["data"], group["schema"]);
        if (test["valid"].get<bool>()) {
          ++t.valid;
          t.valid_accepted += ok;
        } else {
          ++t.invalid;
          if (ok) {
            ++t.wrong_accepts;
            wrong.push_back(file + ": " + group["description"].get<std::string>() + " / " +
                            test["description"].get<std::string>() + " data " + test["data"].dump());
          }
        }
      }
    }
  }
  std::printf(
      "test suite 2020-12: %d/%d groups compiled (%.1f%%); valid accepted %d/%d (wrong rejects %d); "
      "invalid %d, wrong accepts %d\n",
      t.compiled, t.schemas, 100.0 * t.compiled / std::max(1, t.schemas), t.valid_accepted, t.valid,
      t.valid - t.valid_accepted, t.invalid, t.wrong_accepts);
  for (const std::string& w : wrong) std::printf("  WRONG ACCEPT %s\n", w.c_str());
  EXPECT_EQ(t.wrong_accepts, 0);
  EXPECT_GE(t.compiled * 100, t.schemas * 50);
}

TEST(JsonSchemaCorpus, JsonSchemaBench) {
  const std::string dir = std::string(kStructured) + "/jsonschema";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "corpus not present";
  const bool full = std::getenv("TGI_FULL_JSONSCHEMA") != nullptr;
  const int stride = full ? 1 : 3;  // a fixed, deterministic subset by default
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  Tally all;
  std::map<std::string, int> reasons;
  std::vector<std::string> wrong;
  for (const std::string& file : files) {
    std::istringstream lines(read_gzip(file));
    std::string line;
    Tally t;
    std::string category;
    for (int index = 0; std::getline(lines, line); ++index) {
      if (index % stride != 0) continue;
      const Json row = Json::parse(line);
      category = row["category"].get<std::string>();
      ++t.schemas;
      const auto start = Clock::now();
      auto grammar = compile_json_schema(row["schema"]);
      t.compile_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      if (!grammar.ok()) {
        ++reasons[reason_of(grammar.error().message)];
        continue;
      }
      ++t.compiled;
      if (row.contains("checkable") && row["checkable"].is_boolean() && !row["checkable"].get<bool>())
        continue;
      for (const Json& test : row["tests"]) {
        const bool ok = accepted(*grammar, test["data"], row["schema"]);
        if (test["valid"].get<bool>()) {
          ++t.valid;
          t.valid_accepted += ok;
        } else {
          ++t.invalid;
          if (ok) {
            ++t.wrong_accepts;
            wrong.push_back(row["id"].get<std::string>() + " data " + test["data"].dump().substr(0, 300));
          }
        }
      }
    }
    std::printf(
        "%-16s coverage %4d/%4d = %5.1f%%  valid accepted %4d/%4d  wrong accepts %d  compile p50 %.2f ms "
        "p95 %.2f ms\n",
        category.c_str(), t.compiled, t.schemas, 100.0 * t.compiled / std::max(1, t.schemas),
        t.valid_accepted, t.valid, t.wrong_accepts, percentile(t.compile_ms, 0.5),
        percentile(t.compile_ms, 0.95));
    all.schemas += t.schemas;
    all.compiled += t.compiled;
    all.valid += t.valid;
    all.valid_accepted += t.valid_accepted;
    all.invalid += t.invalid;
    all.wrong_accepts += t.wrong_accepts;
    all.compile_ms.insert(all.compile_ms.end(), t.compile_ms.begin(), t.compile_ms.end());
  }
  std::printf(
      "OVERALL%s: coverage %d/%d = %.1f%%; valid accepted %d/%d (wrong rejects %d); invalid %d, wrong "
      "accepts %d; compile p50 %.2f ms p95 %.2f ms\n",
      full ? " (full)" : " (every 3rd schema)", all.compiled, all.schemas,
      100.0 * all.compiled / std::max(1, all.schemas), all.valid_accepted, all.valid,
      all.valid - all.valid_accepted, all.invalid, all.wrong_accepts, percentile(all.compile_ms, 0.5),
      percentile(all.compile_ms, 0.95));
  std::vector<std::pair<int, std::string>> top;
  for (const auto& [reason, count] : reasons) top.emplace_back(count, reason);
  std::sort(top.rbegin(), top.rend());
  for (size_t i = 0; i < std::min<size_t>(25, top.size()); ++i) {
    std::printf("  refused %4d: %s\n", top[i].first, top[i].second.c_str());
  }
  for (const std::string& w : wrong) std::printf("  WRONG ACCEPT %s\n", w.c_str());
  EXPECT_EQ(all.wrong_accepts, 0);
  EXPECT_GE(all.compiled * 100, all.schemas * 60);
}

}  // namespace
}  // namespace tgi::grammar
