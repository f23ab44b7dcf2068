// clang-format off
// fuzz-sources: src/server/api.cpp src/server/router.cpp src/server/api_error.cpp src/server/json_fields.cpp
// fuzz-sources: src/server/json_limits.cpp src/server/generate_request.cpp src/server/chat_request.cpp
// fuzz-sources: src/server/generate_routes.cpp src/server/openai_routes.cpp src/server/info_routes.cpp
// fuzz-sources: src/server/responses.cpp src/server/generation_run.cpp src/server/metrics.cpp
// fuzz-sources: src/server/chat_pipeline.cpp src/server/chat_output_reader.cpp src/server/chat_stream_writer.cpp
// fuzz-sources: src/server/openai_chat_writer.cpp src/server/text_routes.cpp src/server/docs_routes.cpp
// fuzz-sources: src/server/anthropic_routes.cpp src/server/anthropic_messages.cpp src/server/embedded_assets.cpp
// fuzz-sources: src/server/responses_routes.cpp src/server/openai_responses_api.cpp
// fuzz-sources: src/engine/finish_reason.cpp src/server/request_log.cpp src/server/log_format.cpp src/core/progress.cpp
// fuzz-sources: src/server/grammar_request.cpp
// clang-format on
// libFuzzer harness: request bodies through the real routing, parsing and validation of every POST
// route, with a scripted backend that generates a few tokens. Input: the route's path, a newline,
// then the body (the format of the seed corpus, which is the hostile-body corpus the e2e suite
// sends to the real server). Whatever the body, the answer is a status below 500, and a 4xx
// carries a body saying why; never an exception, crash or sanitizer report.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../unit/server/word_tokens.h"
#include "chat/output/output_format.h"
#include "grammar/constraint.h"  // links tgi_grammar: grammars, schemas and tool calls compile here
#include "server/api.h"

namespace {

using namespace tgi;
using namespace tgi::server;

// Generations run when the harness drains them, after the handler returned, as the engine thread
// would run them later: up to 6 tokens per best_of candidate, drawn from pieces of the model's
// markers and of JSON (chosen by the prompt's length, so the fuzzer steers them), so the output
// parser sees calls, thinking and broken halves of both; then the candidate's end.
class ScriptedBackend : public Backend {
 public:
  std::deque<std::function<void()>> pending;

  Result<TokenizedText> tokenize(const std::string& text, bool add_special_tokens) const override {
    return testing::word_tokens(text, add_special_tokens);
  }

  Result<std::string> render_chat(const ChatPrompt& prompt) const override {
    std::string out;
    for (const auto& message : prompt.messages) {
      if (!message.contains("content") || !(message["content"].is_string() || message["content"].is_null()))
        return Error{ErrorKind::kInvalidArgument, "content must be text"};
      if (message["content"].is_string()) out += message["content"].get<std::string>();
      out += "\n";
    }
    if (prompt.tools) out += prompt.tools->dump();
    return out;
  }

  // A Hermes/Qwen-style model: the output parser runs over every scripted answer.
  const ChatTraits& chat_traits() const override {
    static const ChatTraits traits = [] {
      ChatTraits t;
      t.uses_tools = true;
      t.output_format = chat::detect_output_format("{{ tools }} <tool_call> </tool_call> <think> </think>",
                                                   [](std::string_view) { return false; });
      return t;
    }();
    return traits;
  }

  Result<std::string> detokenize(const std::vector<int32_t>& ids) const override {
    std::string out;
    for (int32_t id : ids) out += "t" + std::to_string(id);
    return out;
  }

  struct Handle : SubmittedRequest {
    bool cancelled = false;
    void cancel() override { cancelled = true; }
  };

  Result<std::shared_ptr<SubmittedRequest>> submit(engine::GenerationRequest request,
                                                   TokenEventSink sink) override {
    auto handle = std::make_shared<Handle>();
    const int candidates = std::max<int>(1, request.best_of);
    const int tokens = std::min<int>(6, request.stopping.max_new_tokens);
    pending.push_back(
        [handle, sink, candidates, tokens, prompt = static_cast<int32_t>(request.input_ids.size())] {
          static const char* const pieces[] = {"{\"",
                                               "<tool_call>",
                                               "\n{\"name\": \"f\", \"arguments\": {",
                                               "\"a\": [1, \"}\"]}}",
                                               "</tool_call>",
                                               "<think>",
                                               "</think>",
                                               " text",
                                               "<tool",
                                               "\xe2\x82",
                                               "\xac",
                                               "[",
                                               "\n"};
          constexpr size_t kPieces = sizeof(pieces) / sizeof(pieces[0]);
          for (int c = 0; c < candidates && !handle->cancelled; ++c) {
            std::string text;
            for (int i = 1; i <= tokens; ++i) {
              engine::TokenEvent token;
              token.candidate = c;
              token.token = engine::TokenInfo{
                  i, pieces[(static_cast<size_t>(prompt) * 7 + i * (c + 1)) % kPieces], -0.5f, false};
              token.text_delta = token.token.text;
              token.last = i == tokens;
              text += token.text_delta;
              sink(token);
            }
            engine::TokenEvent end;
            end.kind = engine::TokenEvent::Kind::kEnd;
            end.candidate = c;
            end.finish_reason = engine::FinishReason::kLength;
            end.generated_text = text;
            end.generated_tokens = tokens;
            end.prompt_tokens = prompt;
            end.best_of_winner = c + 1 == candidates;
            sink(end);
          }
        });
    return std::shared_ptr<SubmittedRequest>(handle);
  }

  bool healthy() const override { return true; }
  EngineCounters counters() const override { return {}; }
};

// Runs posted work inline (one thread: the strand is trivially respected) and checks the answer.
class CheckingChannel : public ResponseChannel {
 public:
  void send(HttpResponse response) override { answer(response.status, response.body.empty()); }
  void start_stream(int status, HttpHeaders) override { answer(status, false); }
  void write(std::string) override {}
  void finish() override {}
  void post(std::function<void()> task) override { task(); }
  // Kept, as a connection keeps them: they own the request's state until it is answered.
  void on_disconnect(std::function<void()> callback) override { disconnect_callbacks.push_back(std::move(callback)); }
  bool answered = false;
  std::vector<std::function<void()>> disconnect_callbacks;

 private:
  void answer(int status, bool empty_body) {
    if (answered) __builtin_trap();  // one response per request
    answered = true;
    if (status >= 500) __builtin_trap();
    if (status >= 400 && empty_body) __builtin_trap();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ServerConfig config = [] {
    ServerConfig c;
    c.limits.max_input_tokens = 64;
    c.limits.max_total_tokens = 128;
    c.model.model_id = "fuzz/model";
    return c;
  }();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos || newline > 64) return 0;
  HttpRequest request;
  request.method = "POST";
  request.path = std::string(input.substr(0, newline));
  request.body = std::string(input.substr(newline + 1));
  request.headers["content-type"] = "application/json";
  request.request_id = "fuzz";
  // Only the POST routes take a body; anything else is the router's empty 404/405.
  static const std::string_view routes[] = {"/",
                                            "/generate",
                                            "/generate_stream",
                                            "/v1/chat/completions",
                                            "/v1/completions",
                                            "/invocations",
                                            "/tokenize",
                                            "/chat_tokenize",
                                            "/v1/responses",
                                            "/v1/messages",
                                            "/v1/messages/count_tokens",
                                            "/detokenize",
                                            "/apply-template"};
  if (std::find(std::begin(routes), std::end(routes), request.path) == std::end(routes)) return 0;

  auto backend = std::make_shared<ScriptedBackend>();
  Api api(config);
  api.set_backend(backend);
  auto channel = std::make_shared<CheckingChannel>();
  api.handler()(std::move(request), channel);
  for (size_t i = 0; i < backend->pending.size(); ++i) backend->pending[i]();
  if (!channel->answered) __builtin_trap();
  channel->disconnect_callbacks.clear();  // they hold the channel through the request's state
  return 0;
}
