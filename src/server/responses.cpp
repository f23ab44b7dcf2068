#include "server/responses.h"

#include <chrono>
#include <cmath>

namespace tgi::server {

std::string dump(const OutJson& value) {
  return value.dump(-1, ' ', false, OutJson::error_handler_t::replace);
}

std::string sse_event(const std::string& data) { return "data: " + data + "\n\n"; }

HttpHeaders sse_headers(HttpHeaders base) {
  base.emplace_back("content-type", "text/event-stream");
  base.emplace_back("cache-control", "no-cache");
  base.emplace_back("x-accel-buffering", "no");
  return base;
}

int64_t unix_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

OutJson logprob_value(float logprob) {
  if (!std::isfinite(logprob)) return nullptr;
  return logprob;
}

OutJson seed_value(const std::optional<uint64_t>& seed) {
  if (!seed) return nullptr;
  return *seed;
}

OutJson prefill_json(const std::vector<engine::TokenInfo>& prefill) {
  OutJson list = OutJson::array();
  for (const auto& t : prefill) {
    OutJson item;
    item["id"] = t.id;
    item["text"] = t.text;
    item["logprob"] = logprob_value(t.logprob);
    list.push_back(std::move(item));
  }
  return list;
}

OutJson tokens_json(const std::vector<engine::TokenInfo>& tokens) {
  OutJson list = OutJson::array();
  for (const auto& t : tokens) list.push_back(token_json(t));
  return list;
}

OutJson top_tokens_json(const std::vector<std::vector<engine::TokenInfo>>& top) {
  OutJson list = OutJson::array();
  for (const auto& step : top) list.push_back(tokens_json(step));
  return list;
}

bool any_top_tokens(const std::vector<std::vector<engine::TokenInfo>>& top) {
  for (const auto& step : top)
    if (!step.empty()) return true;
  return false;
}

std::string full_text(const GenerationResult& result, const ResponseShape& shape) {
  return shape.return_full_text ? shape.inputs + result.generated_text : result.generated_text;
}

OutJson openai_header(const char* object, const OpenAiIdentity& id) {
  OutJson out;
  out["object"] = object;
  out["id"] = "";
  out["created"] = id.created;
  out["model"] = id.model;
  out["system_fingerprint"] = id.system_fingerprint;
  return out;
}

}  // namespace

const char* finish_reason_name(engine::FinishReason reason) {
  switch (reason) {
    case engine::FinishReason::kEosToken: return "eos_token";
    case engine::FinishReason::kStopSequence: return "stop_sequence";
    case engine::FinishReason::kLength: return "length";
  }
  return "length";
}

OutJson token_json(const engine::TokenInfo& token) {
  OutJson out;
  out["id"] = token.id;
  out["text"] = token.text;
  out["logprob"] = logprob_value(token.logprob);
  out["special"] = token.special;
  return out;
}

OutJson generate_response_json(const GenerationResult& result, const ResponseShape& shape,
                               const std::vector<GenerationResult>& other_best_of) {
  OutJson out;
  out["generated_text"] = full_text(result, shape);
  if (shape.details || shape.decoder_input_details) {
    OutJson details;
    details["finish_reason"] = finish_reason_name(result.finish_reason);
    details["generated_tokens"] = result.generated_tokens;
    details["seed"] = seed_value(result.seed);
    details["prefill"] = prefill_json(result.prefill);
    details["tokens"] = tokens_json(result.tokens);
    if (!other_best_of.empty()) {
      OutJson sequences = OutJson::array();
      for (const auto& other : other_best_of) {
        OutJson s;
        s["generated_text"] = full_text(other, shape);
        s["finish_reason"] = finish_reason_name(other.finish_reason);
        s["generated_tokens"] = other.generated_tokens;
        s["seed"] = seed_value(other.seed);
        s["prefill"] = prefill_json(other.prefill);
        s["tokens"] = tokens_json(other.tokens);
        if (any_top_tokens(other.top_tokens)) s["top_tokens"] = top_tokens_json(other.top_tokens);
        sequences.push_back(std::move(s));
      }
      details["best_of_sequences"] = std::move(sequences);
    }
    if (any_top_tokens(result.top_tokens)) details["top_tokens"] = top_tokens_json(result.top_tokens);
    out["details"] = std::move(details);
  }
  return out;
}

std::string generate_stream_event(int64_t index, const engine::TokenInfo& token,
                                  const std::vector<engine::TokenInfo>& top_tokens,
                                  const GenerationResult* final_result, const ResponseShape& shape) {
  OutJson out;
  out["index"] = index;
  out["token"] = token_json(token);
  if (!top_tokens.empty()) out["top_tokens"] = tokens_json(top_tokens);
  if (final_result) {
    out["generated_text"] = full_text(*final_result, shape);
    if (shape.details) {
      OutJson details;
      details["finish_reason"] = finish_reason_name(final_result->finish_reason);
      details["generated_tokens"] = final_result->generated_tokens;
      details["seed"] = seed_value(final_result->seed);
      details["input_length"] = final_result->input_length;
      out["details"] = std::move(details);
    } else {
      out["details"] = nullptr;
    }
  } else {
    out["generated_text"] = nullptr;
    out["details"] = nullptr;
  }
  return sse_event(dump(out));
}

const char* openai_finish_reason(engine::FinishReason reason) {
  switch (reason) {
    case engine::FinishReason::kEosToken: return "stop";
    case engine::FinishReason::kStopSequence: return "stop_sequence";
    case engine::FinishReason::kLength: return "length";
  }
  return "length";
}

OutJson chat_logprob_json(const engine::TokenInfo& token, const std::vector<engine::TokenInfo>& top) {
  OutJson out;
  out["token"] = token.text;
  out["logprob"] = logprob_value(token.logprob);
  OutJson alternatives = OutJson::array();
  for (const auto& t : top) {
    OutJson alt;
    alt["token"] = t.text;
    alt["logprob"] = logprob_value(t.logprob);
    alternatives.push_back(std::move(alt));
  }
  out["top_logprobs"] = std::move(alternatives);
  return out;
}

OutJson usage_json(int64_t prompt_tokens, int64_t completion_tokens) {
  OutJson usage;
  usage["prompt_tokens"] = prompt_tokens;
  usage["completion_tokens"] = completion_tokens;
  usage["total_tokens"] = prompt_tokens + completion_tokens;
  return usage;
}

std::string chat_completion_json(const OpenAiIdentity& id, const std::vector<ChatChoice>& choices,
                                 int64_t prompt_tokens, int64_t completion_tokens) {
  OutJson out = openai_header("chat.completion", id);
  OutJson list = OutJson::array();
  for (const ChatChoice& c : choices) {
    OutJson choice;
    choice["index"] = c.index;
    choice["message"] = c.message;
    choice["logprobs"] = c.logprobs;
    choice["finish_reason"] = c.finish_reason;
    list.push_back(std::move(choice));
  }
  out["choices"] = std::move(list);
  out["usage"] = usage_json(prompt_tokens, completion_tokens);
  return dump(out);
}

std::string chat_chunk_json(const OpenAiIdentity& id, const OutJson& delta, const OutJson& logprobs,
                            const OutJson& finish_reason, int64_t index) {
  OutJson out = openai_header("chat.completion.chunk", id);
  OutJson choice;
  choice["index"] = index;
  choice["delta"] = delta;
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = finish_reason;
  out["choices"] = OutJson::array({choice});
  out["usage"] = nullptr;
  return dump(out);
}

std::string chat_usage_chunk_json(const OpenAiIdentity& id, int64_t prompt_tokens, int64_t completion_tokens) {
  OutJson out = openai_header("chat.completion.chunk", id);
  out["choices"] = OutJson::array();
  out["usage"] = usage_json(prompt_tokens, completion_tokens);
  return dump(out);
}

std::string openai_stream_error(const std::string& message) {
  OutJson error;
  error["message"] = message;
  error["http_status_code"] = 422;
  OutJson out;
  out["error"] = std::move(error);
  return dump(out);
}

std::string completion_json(const OpenAiIdentity& id, const std::vector<CompletionChoice>& choices,
                            int64_t prompt_tokens, int64_t completion_tokens) {
  OutJson out = openai_header("text_completion", id);
  OutJson list = OutJson::array();
  for (const auto& c : choices) {
    OutJson choice;
    choice["index"] = c.index;
    choice["text"] = c.text;
    choice["logprobs"] = c.logprobs;
    choice["finish_reason"] = c.finish_reason;
    list.push_back(std::move(choice));
  }
  out["choices"] = std::move(list);
  out["usage"] = usage_json(prompt_tokens, completion_tokens);
  return dump(out);
}

std::string completion_chunk_json(const OpenAiIdentity& id, int64_t index, const std::string& text,
                                  const OutJson& logprobs) {
  OutJson out;
  out["object"] = "text_completion";
  out["id"] = "";
  out["created"] = id.created;
  OutJson choice;
  choice["index"] = index;
  choice["text"] = text;
  choice["logprobs"] = logprobs;
  choice["finish_reason"] = "";
  out["choices"] = OutJson::array({choice});
  out["model"] = id.model;
  out["system_fingerprint"] = id.system_fingerprint;
  return dump(out);
}

std::string completion_final_chunk_json(const OpenAiIdentity& id, int64_t index, const std::string& text,
                                        const char* raw_finish_reason, int64_t prompt_tokens,
                                        int64_t completion_tokens, const OutJson& logprobs) {
  return completion_json(id, {CompletionChoice{index, text, raw_finish_reason, logprobs}}, prompt_tokens,
                         completion_tokens);
}

OutJson completion_logprobs_json(const std::vector<engine::TokenInfo>& tokens,
                                 const std::vector<std::vector<engine::TokenInfo>>& top_tokens,
                                 int64_t first_offset) {
  OutJson texts = OutJson::array(), logprobs = OutJson::array(), tops = OutJson::array(),
          offsets = OutJson::array();
  int64_t offset = first_offset;
  for (size_t i = 0; i < tokens.size(); ++i) {
    texts.push_back(tokens[i].text);
    logprobs.push_back(tokens[i].logprob);
    OutJson top = OutJson::object();
    if (i < top_tokens.size())
      for (const auto& alternative : top_tokens[i]) top[alternative.text] = alternative.logprob;
    tops.push_back(std::move(top));
    offsets.push_back(offset);
    offset += static_cast<int64_t>(tokens[i].text.size());
  }
  OutJson out;
  out["tokens"] = std::move(texts);
  out["token_logprobs"] = std::move(logprobs);
  out["top_logprobs"] = std::move(tops);
  out["text_offset"] = std::move(offsets);
  return out;
}

}  // namespace tgi::server
