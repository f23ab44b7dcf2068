#include "chat/chat_template.h"

#include <ctime>

#include "chat/jinja/ast.h"
#include "chat/jinja/parser.h"
#include "chat/jinja/renderer.h"
#include "chat/jinja/template_error.h"

namespace tgi::chat {
namespace {

Error to_error(const jinja::TemplateError& e) {
  // raise_exception messages pass through unchanged: clients and tests compare them exactly.
  ErrorKind kind = e.type() == jinja::ErrorType::kSyntax ? ErrorKind::kInvalidArgument : ErrorKind::kValidation;
  return Error{kind, e.message()};
}

Result<std::tm> time_for(const std::optional<std::string>& date) {
  std::tm tm{};
  if (!date) {
    std::time_t now = std::time(nullptr);
    localtime_r(&now, &tm);
    return tm;
  }
  int y = 0, m = 0, d = 0;
  char extra = 0;
  if (std::sscanf(date->c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 || d < 1 || d > 31) {
    return Error::make(ErrorKind::kInvalidArgument, "date must be YYYY-MM-DD, got '{}'", *date);
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  std::time_t t = timegm(&tm);  // normalizes and fills tm_wday / tm_yday
  gmtime_r(&t, &tm);
  return tm;
}

// transformers' continue_final_message: cut the prompt right after the final message's content,
// so generation continues it instead of starting a new turn.
Result<std::string> cut_after_final_message(std::string rendered, const Json& messages) {
  if (!messages.is_array() || messages.empty() || !messages.back().is_object()) {
    return Error::make(ErrorKind::kValidation, "continue_final_message is set but there is no final message to continue");
  }
  const Json& content = messages.back().contains("content") ? messages.back()["content"] : Json();
  std::string final_message;
  if (content.is_array()) {
    bool found = false;
    for (auto it = content.rbegin(); it != content.rend(); ++it) {
      if (it->is_object() && it->contains("text") && (*it)["text"].is_string()) {
        final_message = (*it)["text"].get<std::string>();
        found = true;
        break;
      }
    }
    if (!found) {
      return Error::make(ErrorKind::kValidation, "continue_final_message is set but we could not find any text to continue in the final message!");
    }
  } else if (content.is_string()) {
    final_message = content.get<std::string>();
  } else {
    return Error::make(ErrorKind::kValidation, "continue_final_message is set but the final message has no text content");
  }
  auto is_ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  size_t b = 0, e = final_message.size();
  while (b < e && is_ws(final_message[b])) ++b;
  while (e > b && is_ws(final_message[e - 1])) --e;
  std::string stripped = final_message.substr(b, e - b);
  size_t at = rendered.rfind(stripped);
  if (at == std::string::npos) {
    return Error::make(ErrorKind::kValidation,
                       "continue_final_message is set but the final message does not appear in the chat after applying "
                       "the chat template! This can happen if the chat template deletes portions of the final message. "
                       "Please verify the chat template and final message in your chat to ensure they are compatible.");
  }
  if (rendered.compare(at, final_message.size(), final_message) == 0) {
    rendered.resize(at + final_message.size());
  } else {
    rendered.resize(at + stripped.size());
  }
  return rendered;
}

}  // namespace

ChatTemplate::ChatTemplate(std::shared_ptr<const jinja::Program> program) : program_(std::move(program)) {}

Result<ChatTemplate> ChatTemplate::parse(std::string source) {
  try {
    return ChatTemplate(jinja::parse_template(std::move(source)));
  } catch (const jinja::TemplateError& e) {
    return Error{ErrorKind::kInvalidArgument, "chat template does not parse: " + e.message()};
  } catch (const std::exception& e) {  // allocation failures and the like: still an error value
    return Error{ErrorKind::kInvalidArgument, std::string("chat template does not parse: ") + e.what()};
  }
}

const std::string& ChatTemplate::source() const { return program_->source; }

Result<std::string> ChatTemplate::apply(const Json& messages, const ApplyOptions& options) const {
  if (options.continue_final_message && options.add_generation_prompt) {
    return Error::make(ErrorKind::kValidation,
                       "continue_final_message and add_generation_prompt are not compatible. Use continue_final_message "
                       "when you want the model to continue the final message, and add_generation_prompt when you want "
                       "to add a header that will prompt it to start a new assistant message instead.");
  }
  TGI_ASSIGN_OR_RETURN(std::tm now, time_for(options.date));
  std::string rendered;
  try {
    jinja::Renderer renderer(*program_, jinja::Limits{}, now);
    renderer.set_variable("messages", jinja::Value::from_json(messages));
    renderer.set_variable("tools", jinja::Value::from_json(options.tools));
    renderer.set_variable("documents", jinja::Value::from_json(options.documents));
    renderer.set_variable("add_generation_prompt", jinja::Value(options.add_generation_prompt));
    renderer.set_variable("bos_token", jinja::Value(options.bos_token));
    renderer.set_variable("eos_token", jinja::Value(options.eos_token));
    if (options.extra_context.is_object()) {
      for (const auto& [key, value] : options.extra_context.items()) {
        renderer.set_variable(key, jinja::Value::from_json(value));
      }
    }
    rendered = renderer.render();
  } catch (const jinja::TemplateError& e) {
    return to_error(e);
  } catch (const std::exception& e) {  // allocation failures and the like: still an error value
    return Error{ErrorKind::kValidation, std::string("chat template rendering failed: ") + e.what()};
  }
  if (options.continue_final_message) return cut_after_final_message(std::move(rendered), messages);
  return rendered;
}

}  // namespace tgi::chat
