#include "server/chat_output_reader.h"

#include <nlohmann/json.hpp>

#include "chat/output/output_parser.h"

namespace tgi::server {

namespace {

using chat::OutputDelta;

// Adjacent deltas of one kind (and call) become one, so a token that completes several pieces of
// text sends one chunk.
void append_merged(std::vector<OutputDelta>& out, OutputDelta delta) {
  if (!out.empty() && out.back().kind == delta.kind && delta.kind != OutputDelta::Kind::kToolCallStart &&
      out.back().tool_index == delta.tool_index) {
    out.back().text += delta.text;
    return;
  }
  out.push_back(std::move(delta));
}

// TGI's injected prompt asks for a JSON call whatever the model's own syntax is; its reasoning
// syntax still applies.
chat::OutputFormat injected_prompt_format(const chat::OutputFormat& model_format) {
  chat::OutputFormat format;
  format.reasoning_open = model_format.reasoning_open;
  format.reasoning_close = model_format.reasoning_close;
  return format;
}

std::string compact_arguments(const std::string& text) {
  const auto parsed = nlohmann::ordered_json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return text.empty() ? "{}" : text;
  return parsed.dump();
}

}  // namespace

ChatOutputReader::ChatOutputReader(const ChatTraits& traits, const std::string& rendered_prompt,
                                   const ChatReadOptions& options)
    : options_(options),
      format_(options.native_tools || !options.parse_tool_calls
                  ? traits.output_format
                  : injected_prompt_format(traits.output_format)) {
  const chat::OutputFormat& format = format_;
  chat::OutputParserOptions parser_options;
  parser_options.parse_tool_calls = options.parse_tool_calls;
  parser_options.separate_reasoning = options.separate_reasoning;
  parser_options.starts_in_reasoning =
      options.separate_reasoning && chat::prompt_opens_reasoning(format, rendered_prompt);
  parser_ = chat::make_output_parser(format, parser_options);
}

void ChatOutputReader::push(const engine::TokenInfo& token, std::vector<OutputDelta>& deltas) {
  // A special token is text only when it is one of the model's markers; others are dropped (TGI).
  if (token.special && !chat::is_output_marker(format_, token.text)) return;
  std::vector<OutputDelta> raw;
  parser_->feed(token.text, raw);
  deliver(raw, deltas);
}

void ChatOutputReader::finish(const engine::TokenInfo* last, engine::FinishReason reason,
                              std::vector<OutputDelta>& deltas) {
  if (last && !(reason == engine::FinishReason::kEosToken && last->special)) push(*last, deltas);
  std::vector<OutputDelta> raw;
  parser_->finish(raw);
  deliver(raw, deltas);
  if (no_tool_index_) {
    std::vector<OutputDelta> answer{OutputDelta{OutputDelta::Kind::kContent, 0, no_tool_answer()}};
    no_tool_index_.reset();
    deliver(answer, deltas);
  }
  for (auto& call : output_.tool_calls) call.arguments = compact_arguments(call.arguments);
}

void ChatOutputReader::deliver(std::vector<OutputDelta>& raw, std::vector<OutputDelta>& deltas) {
  for (OutputDelta& delta : raw) {
    switch (delta.kind) {
      case OutputDelta::Kind::kContent:
        output_.content += delta.text;
        break;
      case OutputDelta::Kind::kReasoning:
        output_.reasoning += delta.text;
        break;
      case OutputDelta::Kind::kToolCallStart:
        // TGI's prompt offers `no_tool` for a plain answer: its arguments are the answer.
        if (!options_.native_tools && delta.text == "no_tool") {
          no_tool_index_ = delta.tool_index;
          continue;
        }
        if (!options_.parallel_tool_calls && !output_.tool_calls.empty()) continue;
        call_index_[delta.tool_index] = output_.tool_calls.size();
        delta.tool_index = output_.tool_calls.size();
        output_.tool_calls.push_back(chat::ParsedToolCall{delta.text, ""});
        break;
      case OutputDelta::Kind::kToolCallArguments: {
        if (no_tool_index_ && *no_tool_index_ == delta.tool_index) {
          no_tool_arguments_ += delta.text;
          continue;
        }
        auto ours = call_index_.find(delta.tool_index);
        if (ours == call_index_.end()) continue;  // a dropped call
        delta.tool_index = ours->second;
        output_.tool_calls[ours->second].arguments += delta.text;
        break;
      }
    }
    append_merged(deltas, std::move(delta));
  }
}

std::string ChatOutputReader::no_tool_answer() const {
  const auto parsed = nlohmann::ordered_json::parse(no_tool_arguments_, nullptr, false);
  if (parsed.is_object()) {
    for (const char* key : {"content", "response", "text"})
      if (auto it = parsed.find(key); it != parsed.end() && it->is_string()) return it->get<std::string>();
    return parsed.empty() ? "" : parsed.dump();
  }
  return no_tool_arguments_;
}

chat::AssistantOutput ChatOutputReader::read_all(const ChatTraits& traits, const std::string& rendered_prompt,
                                                 const ChatReadOptions& options,
                                                 const std::vector<engine::TokenInfo>& tokens,
                                                 engine::FinishReason reason) {
  ChatOutputReader reader(traits, rendered_prompt, options);
  std::vector<OutputDelta> ignored;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) reader.push(tokens[i], ignored);
  reader.finish(tokens.empty() ? nullptr : &tokens.back(), reason, ignored);
  return reader.output();
}

}  // namespace tgi::server
