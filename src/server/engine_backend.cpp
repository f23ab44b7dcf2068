#include "server/engine_backend.h"

namespace tgi::server {

namespace {

class EngineRequest : public SubmittedRequest {
 public:
  explicit EngineRequest(std::shared_ptr<engine::RequestHandle> handle) : handle_(std::move(handle)) {}
  void cancel() override { handle_->cancel(); }

 private:
  std::shared_ptr<engine::RequestHandle> handle_;
};

// The tokenizer reports character offsets (as Python's binding does); TGI's /tokenize reports
// byte offsets (Rust's). Maps each character index to its byte index.
std::vector<size_t> char_to_byte_offsets(const std::string& text) {
  std::vector<size_t> bytes;
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) bytes.push_back(i);
  bytes.push_back(text.size());
  return bytes;
}

}  // namespace

EngineBackend::EngineBackend(std::shared_ptr<engine::Engine> engine,
                             std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                             std::optional<chat::ChatTemplate> chat_template)
    : engine_(std::move(engine)), tokenizer_(std::move(tokenizer)), chat_template_(std::move(chat_template)) {
  const std::string source = chat_template_ ? chat_template_->source() : std::string();
  traits_.uses_tools = source.find("tools") != std::string::npos;
  traits_.knows_developer_role = source.find("developer") != std::string::npos;
  traits_.output_format = chat::detect_output_format(
      source, [this](std::string_view token) { return tokenizer_->token_to_id(token).has_value(); });
}

Result<TokenizedText> EngineBackend::tokenize(const std::string& text, bool add_special_tokens) const {
  TGI_ASSIGN_OR_RETURN(tokenizer::Encoding encoding, tokenizer_->encode(text, add_special_tokens));
  TokenizedText out;
  out.ids = std::move(encoding.ids);
  const std::vector<size_t> bytes = char_to_byte_offsets(text);
  auto to_byte = [&](size_t c) { return c < bytes.size() ? bytes[c] : text.size(); };
  for (const auto& [begin, end] : encoding.offsets) out.offsets.emplace_back(to_byte(begin), to_byte(end));
  return out;
}

Result<std::string> EngineBackend::render_chat(const ChatPrompt& prompt) const {
  if (!chat_template_) return Error{ErrorKind::kNotFound, "template not found"};
  chat::ApplyOptions options;
  options.add_generation_prompt = prompt.add_generation_prompt;
  if (prompt.tools) options.tools = *prompt.tools;
  options.extra_context = prompt.template_kwargs;
  const auto& config = tokenizer_->config();
  options.bos_token = config.bos_token.value_or("");
  options.eos_token = config.eos_token.value_or("");
  return chat_template_->apply(prompt.messages, options);
}

Result<std::string> EngineBackend::detokenize(const std::vector<int32_t>& ids) const {
  const int32_t vocab = tokenizer_->vocab_size();
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      return Error{ErrorKind::kInvalidArgument,
                   "tokens[" + std::to_string(i) + "]: " + std::to_string(ids[i]) +
                       " is not a token id (the vocabulary has " + std::to_string(vocab) + ")"};
  return tokenizer_->decode(ids, /*skip_special_tokens=*/false);
}

Result<std::shared_ptr<SubmittedRequest>> EngineBackend::submit(engine::GenerationRequest request,
                                                                TokenEventSink sink) {
  TGI_ASSIGN_OR_RETURN(auto handle,
                       engine_->submit(std::move(request), [sink](engine::TokenEvent&& event) { sink(std::move(event)); }));
  return std::shared_ptr<SubmittedRequest>(std::make_shared<EngineRequest>(std::move(handle)));
}

bool EngineBackend::healthy() const { return true; }

EngineCounters EngineBackend::counters() const {
  engine::EngineStats stats = engine_->stats();
  EngineCounters c;
  c.queue_size = stats.queue_size;
  c.running_requests = stats.last_batch_size;
  c.running_max_tokens = stats.last_batch_tokens;
  c.kv_blocks_total = stats.kv_blocks_total;
  c.kv_blocks_used = stats.kv_blocks_used;
  c.prefix_cache_hit_tokens = stats.prefix_cache_hit_tokens;
  c.preemptions = stats.preemptions;
  c.kv_budget_tokens = stats.max_total_tokens;
  c.steps = stats.steps;
  c.speculative_steps = stats.speculative_steps;
  c.speculative_proposed_tokens = stats.speculative_proposed_tokens;
  c.speculative_accepted_tokens = stats.speculative_accepted_tokens;
  c.forward_failures = stats.forward_failures;
  return c;
}

}  // namespace tgi::server
