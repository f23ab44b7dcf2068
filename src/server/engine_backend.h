#pragma once
// The production Backend: the engine for generation, the model's tokenizer, and its chat template.
#include <memory>
#include <optional>

#include "chat/chat_template.h"
#include "engine/engine.h"
#include "server/backend.h"
#include "tokenizer/tokenizer.h"

namespace tgi::server {

class EngineBackend : public Backend {
 public:
  EngineBackend(std::shared_ptr<engine::Engine> engine, std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                std::optional<chat::ChatTemplate> chat_template);

  Result<TokenizedText> tokenize(const std::string& text, bool add_special_tokens) const override;
  Result<std::string> render_chat(const ChatPrompt& prompt) const override;
  const ChatTraits& chat_traits() const override { return traits_; }
  Result<std::string> detokenize(const std::vector<int32_t>& ids) const override;
  Result<std::shared_ptr<SubmittedRequest>> submit(engine::GenerationRequest request, TokenEventSink sink) override;
  bool healthy() const override;
  EngineCounters counters() const override;

 private:
  std::shared_ptr<engine::Engine> engine_;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  std::optional<chat::ChatTemplate> chat_template_;
  ChatTraits traits_;
};

}  // namespace tgi::server
