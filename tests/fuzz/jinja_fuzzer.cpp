// libFuzzer harness for the chat-template Jinja engine: the input is a template, parsed and then
// rendered against a conversation with tools, under tight limits. Any outcome but a crash, a
// sanitizer report or a hang is fine: hostile templates must end in a clean error.
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>

#include "chat/jinja/ast.h"
#include "chat/jinja/parser.h"
#include "chat/jinja/renderer.h"
#include "chat/jinja/template_error.h"

namespace {

const tgi::chat::jinja::Value& conversation() {
  static const tgi::chat::jinja::Value messages = tgi::chat::jinja::Value::from_json(nlohmann::ordered_json::parse(R"([
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": [{"type": "text", "text": "Hé \"q\" \\ 😀"}]},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
      "function": {"name": "add", "arguments": {"a": 1, "b": 2.5}}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "3.5"}
  ])"));
  return messages;
}

const tgi::chat::jinja::Value& tools() {
  static const tgi::chat::jinja::Value value = tgi::chat::jinja::Value::from_json(nlohmann::ordered_json::parse(R"([
    {"type": "function", "function": {"name": "add", "parameters": {"type": "object",
      "properties": {"a": {"type": "integer"}}, "required": ["a"]}}}
  ])"));
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tgi::chat::jinja;
  if (size > 64 * 1024) return 0;
  std::string source(reinterpret_cast<const char*>(data), size);
  try {
    auto program = parse_template(source);
    Limits limits;
    limits.max_output_bytes = 1 << 20;
    limits.max_loop_iterations = 20000;
    limits.max_call_depth = 32;
    std::tm now{};
    now.tm_year = 124;
    now.tm_mday = 1;
    Renderer renderer(*program, limits, now);
    renderer.set_variable("messages", conversation());
    renderer.set_variable("tools", tools());
    renderer.set_variable("add_generation_prompt", Value(true));
    renderer.set_variable("bos_token", Value("<s>"));
    renderer.set_variable("eos_token", Value("</s>"));
    (void)renderer.render();
  } catch (const TemplateError&) {
    // Expected for most inputs.
  }
  return 0;
}
