#include "grammar/constraint.h"

#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "grammar/gbnf_parser.h"
#include "grammar/json_schema_compiler.h"
#include "grammar/regex_parser.h"
#include "grammar/tool_call_grammar.h"

namespace tgi::grammar {
namespace {

using Compiled = Result<std::shared_ptr<const Grammar>>;

ConstraintOptions& options_storage() {
  static ConstraintOptions options;
  return options;
}

JsonSchemaOptions json_options() {
  const ConstraintOptions& o = constraint_options();
  JsonSchemaOptions json;
  json.whitespace = o.whitespace;
  json.max_indent = o.max_indent;
  json.limits = o.limits;
  return json;
}

Compiled compile_uncached(const ConstraintSpec& spec) {
  switch (spec.kind) {
    case ConstraintKind::kJsonSchema: {
      const nlohmann::ordered_json schema =
          nlohmann::ordered_json::parse(spec.text, nullptr, /*allow_exceptions=*/false);
      if (schema.is_discarded()) return Error::make(ErrorKind::kValidation, "the schema is not valid JSON");
      TGI_ASSIGN_OR_RETURN(Grammar grammar, compile_json_schema(schema, json_options()));
      return std::make_shared<const Grammar>(std::move(grammar));
    }
    case ConstraintKind::kRegex: {
      TGI_ASSIGN_OR_RETURN(Regex regex, parse_regex(spec.text));
      GrammarBuilder builder(constraint_options().limits);
      const uint32_t root = builder.new_rule("root");
      builder.add_alternative(root, {builder.lexeme(regex)});
      TGI_ASSIGN_OR_RETURN(Grammar grammar, builder.build(root));
      return std::make_shared<const Grammar>(std::move(grammar));
    }
    case ConstraintKind::kToolCalls: {
      const nlohmann::ordered_json spec_json =
          nlohmann::ordered_json::parse(spec.text, nullptr, /*allow_exceptions=*/false);
      if (!spec_json.is_object() || !spec_json.contains("tools") || !spec_json["tools"].is_array())
        return Error::make(ErrorKind::kInternal, "malformed tool-call constraint");
      std::vector<ForcedTool> tools;
      for (const auto& t : spec_json["tools"]) {
        tools.push_back(
            ForcedTool{t.value("name", std::string()), t.value("parameters", nlohmann::ordered_json())});
      }
      TGI_ASSIGN_OR_RETURN(Grammar grammar,
                           compile_tool_calls(tools, spec_json.value("parallel", false), json_options()));
      return std::make_shared<const Grammar>(std::move(grammar));
    }
    case ConstraintKind::kGbnf: {
      TGI_ASSIGN_OR_RETURN(Grammar grammar, compile_gbnf(spec.text, constraint_options().limits));
      return std::make_shared<const Grammar>(std::move(grammar));
    }
  }
  return Error::make(ErrorKind::kInternal, "unknown constraint kind");
}

class ConstraintCache {
 public:
  Compiled get_or_compile(const ConstraintSpec& spec) {
    std::string key = std::to_string(static_cast<int>(spec.kind)) + ':' + spec.text;
    {
      std::lock_guard lock(mutex_);
      if (auto it = entries_.find(key); it != entries_.end()) {
        recency_.splice(recency_.begin(), recency_, it->second.position);
        return it->second.compiled;
      }
    }
    // Compiled outside the lock: one slow schema must not hold up every other request. Two
    // threads may compile the same spec at once; both get equal grammars and one is kept.
    Compiled compiled = compile_uncached(spec);
    std::lock_guard lock(mutex_);
    if (entries_.count(key) == 0) {
      const size_t bytes = key.size() + (compiled.ok() ? compiled.value()->memory_bytes() : 64);
      if (bytes > kConstraintCacheBytes / 4) return compiled;  // too big to keep
      recency_.push_front(key);
      entries_.emplace(std::move(key), Entry{compiled, recency_.begin(), bytes});
      held_bytes_ += bytes;
      while (entries_.size() > kConstraintCacheEntries || held_bytes_ > kConstraintCacheBytes) {
        auto oldest = entries_.find(recency_.back());
        held_bytes_ -= oldest->second.bytes;
        entries_.erase(oldest);
        recency_.pop_back();
      }
    }
    return compiled;
  }

 private:
  struct Entry {
    Compiled compiled;
    std::list<std::string>::iterator position;
    size_t bytes;
  };
  size_t held_bytes_ = 0;
  std::mutex mutex_;
  std::list<std::string> recency_;  // most recent first
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace

void set_constraint_options(const ConstraintOptions& options) {
  options_storage() = options;
}
const ConstraintOptions& constraint_options() {
  return options_storage();
}

Result<std::shared_ptr<const Grammar>> compile_constraint(const ConstraintSpec& spec) {
  static ConstraintCache cache;
  return cache.get_or_compile(spec);
}

}  // namespace tgi::grammar
