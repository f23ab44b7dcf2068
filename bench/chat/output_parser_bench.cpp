// Cost of reading a model's output as it streams (chat/output/): thread CPU time per generated
// token for the Hermes/Qwen parser (tools offered, the chat pipeline's common case) on prose, and
// on one tool call whose arguments grow over N tokens (an open call block is re-scanned from its
// start on each token, so this cost grows with the call's length). Prints one line per case.
//
// Build (after `ninja -C build/<dir> tgi_chat`):
//   g++ -std=c++20 -O3 -DNDEBUG -Isrc bench/chat/output_parser_bench.cpp build/<dir>/libtgi_chat.a
//       build/<dir>/libtgi_core.a -o /tmp/output_parser_bench   (one line)
//   /tmp/output_parser_bench
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "chat/output/output_format.h"
#include "chat/output/output_parser.h"

namespace {

double thread_cpu_nanos() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

constexpr const char* kWords[] = {" the", " model",  " answers", " in",  " its",
                                  " own", " format", ",",        " and", "."};

// Mean CPU time per token over `runs` passes of feeding `tokens` one by one, then finishing.
double nanos_per_token(const tgi::chat::OutputFormat& format, const std::vector<std::string>& tokens,
                       int runs) {
  const double start = thread_cpu_nanos();
  for (int run = 0; run < runs; ++run) {
    auto parser = tgi::chat::make_output_parser(format, tgi::chat::OutputParserOptions{});
    std::vector<tgi::chat::OutputDelta> deltas;
    for (const std::string& token : tokens) {
      deltas.clear();
      parser->feed(token, deltas);
    }
    parser->finish(deltas);
  }
  return (thread_cpu_nanos() - start) / (static_cast<double>(runs) * static_cast<double>(tokens.size()));
}

}  // namespace

int main() {
  const auto format = tgi::chat::detect_output_format(
      "<tool_call>\n{\"name\": ...}\n</tool_call> <think></think>", [](std::string_view) { return false; });
  std::vector<std::string> prose;
  for (int i = 0; i < 20000; ++i) prose.push_back(kWords[(i * 7) % 10]);
  std::printf("prose, 20000 tokens: %.0f ns/token\n", nanos_per_token(format, prose, 5));
  for (int length : {200, 2000, 8000}) {
    std::vector<std::string> call = {"<tool_call>", "\n{\"name\": \"write\", \"arguments\": {\"text\": \""};
    for (int i = 0; i < length; ++i) call.push_back(kWords[(i * 3) % 10]);
    call.push_back("\"}}\n</tool_call>");
    std::printf("one tool call, %d argument tokens: %.0f ns/token\n", length,
                nanos_per_token(format, call, 3));
  }
  return 0;
}
