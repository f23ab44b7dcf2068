#pragma once
// Big tokenizers are loaded once per test binary and shared by the test files.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "tokenizer/tokenizer.h"

namespace tgi::tokenizer::testing {

// tests/data/tokenizers/<name>/tokenizer.json, or nullptr (with the error in `error`).
inline const Tokenizer* golden_tokenizer(const std::string& name, std::string* error = nullptr) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(name);
  if (it == cache.end()) {
    auto t = Tokenizer::from_file(std::string(TGI_TEST_DATA_DIR) + "/tokenizers/" + name + "/tokenizer.json");
    if (!t.ok()) {
      if (error) *error = t.error().message;
      return nullptr;
    }
    it = cache.emplace(name, std::move(t).value()).first;
  }
  return it->second.get();
}

}  // namespace tgi::tokenizer::testing
