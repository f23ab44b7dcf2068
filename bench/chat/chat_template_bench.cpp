// Parse and render time of chat templates (one thread): for each template file given, the parse
// time, and the mean render time of a tool-calling conversation after the first render. Prints
// one JSON line per template.
//
// Build (after `ninja -C build/<dir> tgi_chat`):
//   g++ -std=c++20 -O2 -Isrc bench/chat/chat_template_bench.cpp build/<dir>/libtgi_chat.a \
//       build/<dir>/libtgi_core.a -lfmt -o /tmp/chat_template_bench
//   /tmp/chat_template_bench tests/data/chat/templates/*.jinja
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "chat/chat_template.h"

using Clock = std::chrono::steady_clock;

static double micros_since(Clock::time_point t) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t).count();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TEMPLATE.jinja...\n", argv[0]);
    return 2;
  }
  using tgi::chat::Json;
  const Json messages = Json::parse(R"([
    {"role": "system", "content": "You are a helpful assistant with tools."},
    {"role": "user", "content": "What's the weather in Paris and what is 2+3?"},
    {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
    {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "{\"temperature\": 21}"},
    {"role": "assistant", "content": "It is 21 degrees in Paris."},
    {"role": "user", "content": "Thanks! And now add 2 and 3."}
  ])");
  tgi::chat::ApplyOptions options;
  options.tools = Json::parse(R"([
    {"type": "function", "function": {"name": "get_weather", "description": "Get the current weather in a city",
      "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
      "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "add", "description": "Add two integers",
      "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
      "required": ["a", "b"]}}}
  ])");
  options.add_generation_prompt = true;
  options.bos_token = "<s>";
  options.eos_token = "</s>";
  options.date = "2026-01-01";

  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string source = ss.str();
    // Parse: best of several runs, so the number reflects the parser rather than the allocator's warm-up.
    double parse_us = 1e18;
    for (int k = 0; k < 20; ++k) {
      auto t = Clock::now();
      auto parsed = tgi::chat::ChatTemplate::parse(source);
      parse_us = std::min(parse_us, micros_since(t));
      if (!parsed.ok()) {
        std::printf("{\"template\": \"%s\", \"error\": \"parse\"}\n", argv[i]);
        break;
      }
    }
    auto parsed = tgi::chat::ChatTemplate::parse(source);
    if (!parsed.ok()) continue;
    auto first = parsed->apply(messages, options);
    const int rounds = 2000;
    size_t bytes = 0;
    auto t = Clock::now();
    for (int k = 0; k < rounds; ++k) {
      auto r = parsed->apply(messages, options);
      bytes += r.ok() ? r->size() : 0;
    }
    double render_us = micros_since(t) / rounds;
    std::printf("{\"template\": \"%s\", \"bytes\": %zu, \"parse_us\": %.1f, \"render_us\": %.1f, \"ok\": %s, \"output_bytes\": %zu}\n",
                argv[i], source.size(), parse_us, render_us, first.ok() ? "true" : "false", bytes / rounds);
  }
  return 0;
}
