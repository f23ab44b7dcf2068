// Parse and render time of chat templates (one thread): for each template file given, the parse
// time, and the mean render time of a tool-calling conversation after the first render. Times are
// the thread's CPU time, so other load on the machine does not inflate them. Prints one JSON
// line per template. `--repeat N` concatenates each template N times (a 40 KB template from a
// 19 KB one).
//
// Build (after `ninja -C build/<dir> tgi_chat`):
//   g++ -std=c++20 -O2 -Isrc bench/chat/chat_template_bench.cpp build/<dir>/libtgi_chat.a
//       build/<dir>/libtgi_core.a -lfmt -o /tmp/chat_template_bench   (one line)
//   /tmp/chat_template_bench [--repeat N] tests/data/chat/templates/*.jinja
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <ctime>

#include "chat/chat_template.h"

namespace {

double thread_cpu_micros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s TEMPLATE.jinja...\n", argv[0]);
    return 2;
  }
  int first_file = 1;
  int repeat = 1;
  if (argc > 3 && std::string(argv[1]) == "--repeat") {
    repeat = std::stoi(argv[2]);
    first_file = 3;
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

  for (int i = first_file; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string source;
    for (int k = 0; k < repeat; ++k) source += ss.str();
    // Parse: best of several runs, so the number reflects the parser rather than the allocator's warm-up.
    double parse_us = 1e18;
    for (int k = 0; k < 20; ++k) {
      double t = thread_cpu_micros();
      auto parsed = tgi::chat::ChatTemplate::parse(source);
      parse_us = std::min(parse_us, thread_cpu_micros() - t);
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
    double t = thread_cpu_micros();
    for (int k = 0; k < rounds; ++k) {
      auto r = parsed->apply(messages, options);
      bytes += r.ok() ? r->size() : 0;
    }
    double render_us = (thread_cpu_micros() - t) / rounds;
    std::printf("{\"template\": \"%s\", \"bytes\": %zu, \"parse_us\": %.1f, \"render_us\": %.1f, \"ok\": %s, \"output_bytes\": %zu}\n",
                argv[i], source.size(), parse_us, render_us, first.ok() ? "true" : "false", bytes / rounds);
  }
  return 0;
}
