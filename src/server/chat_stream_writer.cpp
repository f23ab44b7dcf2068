#include "server/chat_stream_writer.h"

#include <random>

namespace tgi::server {

const char* ChatOutcome::openai_finish_reason() const {
  // Cut off by max_tokens is "length" even inside a tool call, as OpenAI says it: the call's
  // arguments may be unfinished, and "tool_calls" would tell the client to run them.
  if (finish_reason == engine::FinishReason::kLength) return "length";
  return output.tool_calls.empty() ? "stop" : "tool_calls";
}

std::string random_id(const std::string& prefix) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += kAlphabet[pick(generator)];
  return id;
}

}  // namespace tgi::server
