#pragma once
// OpenAI request bodies (spec §1.9 chat, §1.10 completions): parsing, the mapping onto TGI's
// GenerateParameters, and the chat prompt (messages flattened, tools injected, §6.3).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "server/backend.h"
#include "server/generate_request.h"

namespace tgi::server {

struct ChatTool {
  std::string type;
  std::string name;
  std::optional<std::string> description;
  nlohmann::ordered_json parameters;
};

struct ChatRequest {
  std::optional<std::string> model;
  nlohmann::ordered_json messages;  // as sent (validated shape)
  std::optional<float> frequency_penalty;
  std::optional<float> presence_penalty;
  bool logprobs = false;
  std::optional<uint32_t> top_logprobs;
  std::optional<uint32_t> max_tokens;
  std::optional<std::vector<std::string>> stop;
  bool stream = false;
  std::optional<uint64_t> seed;
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<std::vector<ChatTool>> tools;
  std::optional<std::string> tool_prompt;
  nlohmann::ordered_json tool_choice;  // null, string or object
  std::optional<nlohmann::ordered_json> response_format;
  bool include_usage = false;
  std::optional<uint32_t> n;  // accepted and ignored, as TGI does: one choice
  std::vector<std::pair<int32_t, float>> logit_bias;
};

Result<ChatRequest> parse_chat_request(const nlohmann::ordered_json& body);  // errors: shape errors

// The TGI parameters a chat request stands for (temperature 0 → greedy, presence_penalty + 2 →
// repetition_penalty, details on, ...).
GenerateParameters chat_parameters(const ChatRequest& request);

// The prompt to render: messages flattened to {role, content: str} and tools selected/injected.
// Errors are ApiError-worthy: kind kInvalidArgument carries a tool error message.
struct ChatPromptPlan {
  ChatPrompt prompt;
  std::vector<ChatTool> active_tools;  // empty: plain chat
  std::optional<std::string> continue_final;  // content of a trailing assistant message
};
Result<ChatPromptPlan> plan_chat_prompt(const ChatRequest& request, bool template_uses_tools);

// Cuts a rendered prompt after the last occurrence of `content` and trims trailing whitespace
// (TGI's continue-final-message rule, §1.9.5).
std::string continue_final_message(const std::string& rendered, const std::string& content);

// Parses model output in TGI's tool shape {"function": {"_name": ..., args...}}; returns the tool
// name and the compact arguments JSON.
Result<std::pair<std::string, std::string>> parse_tool_call(const std::string& generated_text);

struct CompletionRequest {
  std::optional<std::string> model;
  std::vector<std::string> prompts;
  std::optional<uint32_t> max_tokens;
  std::optional<float> temperature;
  std::optional<float> top_p;
  bool stream = false;
  std::optional<uint64_t> seed;
  std::optional<std::string> suffix;
  std::optional<float> repetition_penalty;
  std::optional<float> frequency_penalty;
  std::optional<std::vector<std::string>> stop;
};

Result<CompletionRequest> parse_completion_request(const nlohmann::ordered_json& body);
GenerateParameters completion_parameters(const CompletionRequest& request);

inline constexpr const char* kDefaultToolPrompt =
    "\nGiven the functions available, please respond with a JSON for a function call with its proper "
    "arguments that best answers the given prompt. Respond in the format {name: function name, parameters: "
    "dictionary of argument name and its value}.Do not use variables.\n";

}  // namespace tgi::server
