#pragma once
// OpenAI request bodies (spec §1.9 chat, §1.10 completions): parsing, the mapping onto TGI's
// GenerateParameters, and the chat prompt (messages flattened, tools injected, §6.3).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "grammar/constraint.h"
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
  uint32_t n = 1;  // choices, each its own generation (seeded seed + i when a seed is given)
  std::vector<std::pair<int32_t, float>> logit_bias;
  std::optional<uint32_t> top_k;    // not OpenAI's; Anthropic's clients send it
  bool parallel_tool_calls = true;  // false: only the first call the model made is returned
  // Extra variables for the chat template (e.g. {"enable_thinking": false}); `reasoning_effort`
  // joins them as gpt-oss's template expects it.
  nlohmann::ordered_json chat_template_kwargs = nlohmann::ordered_json::object();
  std::optional<std::string> reasoning_effort;
};

Result<ChatRequest> parse_chat_request(const nlohmann::ordered_json& body);  // errors: shape errors

// The TGI parameters a chat request stands for (temperature 0 → greedy, presence_penalty + 2 →
// repetition_penalty, details on, ...).
GenerateParameters chat_parameters(const ChatRequest& request);

// The prompt to render and how to read the answer. When the template knows tools (`native_tools`)
// the messages keep their structure (tool_calls with parsed arguments, tool results, reasoning) and
// the tools go to the template as the client sent them, so the model is asked in its own format;
// otherwise messages are flattened to {role, content: str} and the tools injected into the last
// message as TGI does (spec §6.3). Errors are ApiError-worthy: kInvalidArgument carries a tool error.
struct ChatPromptPlan {
  ChatPrompt prompt;
  std::vector<ChatTool> active_tools;  // empty: plain chat
  bool native_tools = false;           // the model answers in its own tool-call syntax
  std::optional<std::string> continue_final;  // content of a trailing assistant message
  // tool_choice "required" or a named tool: the output is forced to be a call (or, with
  // parallel_tool_calls, a list of calls) of the active tools, arguments valid for each schema.
  std::optional<grammar::ConstraintSpec> forced_tool_calls;
};
Result<ChatPromptPlan> plan_chat_prompt(const ChatRequest& request, const ChatTraits& traits);

// Cuts a rendered prompt after the last occurrence of `content` and trims trailing whitespace
// (TGI's continue-final-message rule, §1.9.5).
std::string continue_final_message(const std::string& rendered, const std::string& content);

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
  uint32_t n = 1;
  std::optional<uint32_t> logprobs;  // top alternatives per token (0-5), OpenAI's legacy shape
  std::optional<nlohmann::ordered_json> response_format;  // a GrammarType (grammar_request.h)
};

Result<CompletionRequest> parse_completion_request(const nlohmann::ordered_json& body);
GenerateParameters completion_parameters(const CompletionRequest& request);

inline constexpr const char* kDefaultToolPrompt =
    "\nGiven the functions available, please respond with a JSON for a function call with its proper "
    "arguments that best answers the given prompt. Respond in the format {name: function name, parameters: "
    "dictionary of argument name and its value}.Do not use variables.\n";

}  // namespace tgi::server
