#pragma once
// A scripted Backend for server tests: words are tokens, generations are "tok1 tok2 ..." produced
// on a worker thread (like the engine's), optionally slowly so cancellation can be observed.
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "server/backend.h"
#include "word_tokens.h"

namespace tgi::server::testing {

class FakeBackend : public Backend {
 public:
  int tokens_per_request = 3;
  std::chrono::milliseconds step_delay{0};
  // Token i is produced only once i <= released_tokens (a test opens the gate step by step).
  std::atomic<int> released_tokens{1 << 30};
  engine::FinishReason finish_reason = engine::FinishReason::kLength;
  std::atomic<int> cancelled{0};
  std::atomic<int> submitted{0};
  ChatTraits traits;  // default: a template without tools, JSON fallback parsing
  // When set, generations produce these token texts instead of " tok1 tok2 ...".
  std::vector<std::string> script;
  std::set<std::string> special_texts;  // scripted tokens with these texts are special tokens
  std::optional<Error> submit_error;
  engine::GenerationRequest last_request;

  ~FakeBackend() override {
    std::lock_guard lock(mutex_);
    for (auto& t : threads_) t.join();
  }

  Result<TokenizedText> tokenize(const std::string& text, bool add_special_tokens) const override {
    return word_tokens(text, add_special_tokens);
  }

  Result<std::string> render_chat(const ChatPrompt& prompt) const override {
    std::string out;
    for (const auto& m : prompt.messages) {
      if (m["content"] == "boom") return Error{ErrorKind::kInvalidArgument, "content boom is not allowed"};
      out.append("<").append(m["role"].get<std::string>()).append(">");
      if (m["content"].is_string()) out.append(m["content"].get<std::string>());
      out.append("\n");
    }
    if (prompt.tools) out.append("<tools>").append(prompt.tools->dump()).append("\n");
    if (!prompt.template_kwargs.empty())
      out.append("<kwargs>").append(prompt.template_kwargs.dump()).append("\n");
    if (prompt.add_generation_prompt) out.append("<assistant>");
    return out;
  }

  const ChatTraits& chat_traits() const override { return traits; }

  Result<std::string> detokenize(const std::vector<int32_t>& ids) const override {
    std::string out;
    for (int32_t id : ids) out += " tok" + std::to_string(id);
    return out;
  }

  class Handle : public SubmittedRequest {
   public:
    std::atomic<bool> flag{false};
    void cancel() override { flag = true; }
  };

  Result<std::shared_ptr<SubmittedRequest>> submit(engine::GenerationRequest request,
                                                   TokenEventSink sink) override {
    if (submit_error) return *submit_error;
    submitted++;
    auto handle = std::make_shared<Handle>();
    {
      std::lock_guard lock(mutex_);
      last_request = request;
    }
    const int n = std::min<int>(script.empty() ? tokens_per_request : static_cast<int>(script.size()),
                                request.stopping.max_new_tokens);
    const int prompt_tokens = static_cast<int>(request.input_ids.size());
    std::lock_guard lock(mutex_);
    threads_.emplace_back([this, handle, sink, n, prompt_tokens, details = request.decoder_input_details,
                           script = script, special = special_texts] {
      if (details) {
        engine::TokenEvent prompt;
        prompt.kind = engine::TokenEvent::Kind::kPrompt;
        prompt.prompt.push_back(engine::TokenInfo{1, "<s>", std::nanf(""), true});
        sink(prompt);
      }
      std::string text;
      for (int i = 1; i <= n; ++i) {
        std::this_thread::sleep_for(step_delay);
        while (i > released_tokens.load() && !handle->flag)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        if (handle->flag) {
          cancelled++;
          engine::TokenEvent error;
          error.kind = engine::TokenEvent::Kind::kError;
          error.error = Error{ErrorKind::kGeneration, "cancelled"};
          sink(error);
          return;
        }
        engine::TokenEvent token;
        token.kind = engine::TokenEvent::Kind::kToken;
        std::string piece = script.empty() ? " tok" + std::to_string(i) : script[i - 1];
        token.token = engine::TokenInfo{i, piece, -0.5f * static_cast<float>(i), special.count(piece) > 0};
        token.text_delta = token.token.text;
        token.last = i == n;
        text += token.token.text;
        sink(token);
      }
      engine::TokenEvent end;
      end.kind = engine::TokenEvent::Kind::kEnd;
      end.finish_reason = finish_reason;
      end.generated_text = text;
      end.generated_tokens = n;
      end.prompt_tokens = prompt_tokens;
      end.seed = 42;
      sink(end);
    });
    return std::shared_ptr<SubmittedRequest>(handle);
  }

  bool healthy() const override { return true; }
  EngineCounters counters() const override {
    EngineCounters c;
    c.kv_blocks_total = 10;
    c.kv_blocks_used = 4;
    c.prefix_cache_hit_tokens = 7;
    return c;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace tgi::server::testing
