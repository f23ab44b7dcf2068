#pragma once
// What the HTTP layer needs from the rest of the system, as one narrow interface: tokenize, render a
// chat prompt, submit a generation, report health and counters. The production implementation
// (engine_backend.h) adapts the engine, tokenizer and chat template; tests use a scripted fake, so
// everything HTTP-shaped can be tested without a model.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/output/output_format.h"
#include "core/error.h"
#include "engine/generation_request.h"
#include "engine/token_event.h"

namespace tgi::server {

struct TokenizedText {
  std::vector<int32_t> ids;
  std::vector<std::pair<size_t, size_t>> offsets;  // byte offsets into the input, per token
};

// Chat rendering input, already shaped the way templates expect (spec §6.2).
struct ChatPrompt {
  nlohmann::ordered_json messages;              // [{role, content, ...}, ...]
  std::optional<nlohmann::ordered_json> tools;  // list passed to the template as `tools`
  nlohmann::ordered_json template_kwargs = nlohmann::ordered_json::object();  // extra template variables
  bool add_generation_prompt = true;                                          // TGI always renders with one
};

// What the chat routes need to know about the model's template and output syntax, fixed at load.
struct ChatTraits {
  bool uses_tools = false;            // the template renders `tools` itself
  bool knows_developer_role = false;  // else a `developer` message is given to it as `system`
  chat::OutputFormat output_format;   // how the model writes reasoning and tool calls
};

// Counters the engine keeps that /metrics exposes next to the server's own.
struct EngineCounters {
  int64_t queue_size = 0;
  int64_t running_requests = 0;
  int64_t running_max_tokens = 0;
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;
  int64_t prefix_cache_hit_tokens = 0;
  int64_t preemptions = 0;
  int64_t kv_budget_tokens = 0;
  int64_t steps = 0;
  int64_t forward_failures = 0;
  int64_t speculative_steps = 0;  // sequence-steps that verified proposals
  int64_t speculative_proposed_tokens = 0;
  int64_t speculative_accepted_tokens = 0;
};

// A handle to one submitted generation. Cancelling frees its KV blocks at the engine's next step.
class SubmittedRequest {
 public:
  virtual ~SubmittedRequest() = default;
  virtual void cancel() = 0;
};

// Called on the engine thread, in order, for each event of one request. Must not block.
using TokenEventSink = std::function<void(engine::TokenEvent)>;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Result<TokenizedText> tokenize(const std::string& text, bool add_special_tokens) const = 0;
  // Renders the chat template; errors are template errors (spec §2 template_error).
  virtual Result<std::string> render_chat(const ChatPrompt& prompt) const = 0;
  virtual const ChatTraits& chat_traits() const = 0;
  // Token ids back to text (special tokens included), for /detokenize.
  virtual Result<std::string> detokenize(const std::vector<int32_t>& ids) const = 0;
  virtual Result<std::shared_ptr<SubmittedRequest>> submit(engine::GenerationRequest request,
                                                           TokenEventSink sink) = 0;
  virtual bool healthy() const = 0;
  virtual EngineCounters counters() const = 0;
};

}  // namespace tgi::server
