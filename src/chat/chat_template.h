#pragma once
// The front door of chat/: a model's Jinja chat template, parsed once, applied per request the way
// transformers' apply_chat_template does (jinja2 sandbox, trim_blocks, lstrip_blocks, tojson,
// raise_exception, strftime_now).
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace tgi::chat {

namespace jinja {
struct Program;
}

// JSON in chat/ is nlohmann::ordered_json: templates dump tool schemas with tojson, and Python
// keeps the client's key order, so we must too (nlohmann::json would sort keys). A plain
// nlohmann::json converts implicitly, but then loses the client's order.
using Json = nlohmann::ordered_json;

struct ApplyOptions {
  Json tools;                       // null or array
  Json documents;                   // null or array
  bool add_generation_prompt = false;
  bool continue_final_message = false;
  std::string bos_token, eos_token;
  Json extra_context;               // object: extra kwargs like enable_thinking
  std::optional<std::string> date;  // "YYYY-MM-DD": what strftime_now sees; none = now
};

class ChatTemplate {
 public:
  // Parses once per model; the parsed program is immutable and shared by copies.
  static Result<ChatTemplate> parse(std::string source);

  // Renders `messages` (an array of {role, content, ...}). Thread-safe. A template's
  // raise_exception(msg) yields an Error whose message is exactly msg.
  Result<std::string> apply(const Json& messages, const ApplyOptions& options) const;

  const std::string& source() const;

 private:
  explicit ChatTemplate(std::shared_ptr<const jinja::Program> program);
  std::shared_ptr<const jinja::Program> program_;
};

}  // namespace tgi::chat
