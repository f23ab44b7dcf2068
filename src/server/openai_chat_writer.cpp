#include "server/openai_chat_writer.h"

namespace tgi::server {

OutJson openai_chat_message(const chat::AssistantOutput& output) {
  OutJson message;
  message["role"] = "assistant";
  // OpenAI's clients read a message holding only calls as content null.
  if (output.tool_calls.empty() || !output.content.empty())
    message["content"] = output.content;
  else
    message["content"] = nullptr;
  if (!output.reasoning.empty()) message["reasoning_content"] = output.reasoning;
  if (!output.tool_calls.empty()) {
    OutJson calls = OutJson::array();
    for (const auto& call : output.tool_calls) {
      OutJson function;
      function["name"] = call.name;
      function["arguments"] = call.arguments;
      OutJson tool_call;
      tool_call["id"] = random_id("call_");
      tool_call["type"] = "function";
      tool_call["function"] = std::move(function);
      calls.push_back(std::move(tool_call));
    }
    message["tool_calls"] = std::move(calls);
  }
  return message;
}

OutJson OpenAiChatStreamWriter::take_logprobs() {
  if (!logprobs_requested_) return nullptr;
  OutJson content = OutJson::array();
  for (auto& logprob : pending_logprobs_) content.push_back(std::move(logprob));
  pending_logprobs_.clear();
  OutJson out = OutJson::object();
  out["content"] = std::move(content);
  return out;
}

std::string OpenAiChatStreamWriter::delta(const chat::OutputDelta& delta) {
  OutJson body;
  body["role"] = "assistant";
  OutJson logprobs = nullptr;
  switch (delta.kind) {
    case chat::OutputDelta::Kind::kContent:
      body["content"] = delta.text;
      logprobs = take_logprobs();
      break;
    case chat::OutputDelta::Kind::kReasoning:
      body["reasoning_content"] = delta.text;
      break;
    case chat::OutputDelta::Kind::kToolCallStart: {
      if (call_ids_.size() <= delta.tool_index) call_ids_.resize(delta.tool_index + 1);
      call_ids_[delta.tool_index] = random_id("call_");
      OutJson function;
      function["name"] = delta.text;
      function["arguments"] = "";
      OutJson call;
      call["index"] = delta.tool_index;
      call["id"] = call_ids_[delta.tool_index];
      call["type"] = "function";
      call["function"] = std::move(function);
      body["tool_calls"] = OutJson::array({std::move(call)});
      break;
    }
    case chat::OutputDelta::Kind::kToolCallArguments: {
      OutJson function;
      function["arguments"] = delta.text;
      OutJson call;
      call["index"] = delta.tool_index;
      call["function"] = std::move(function);
      body["tool_calls"] = OutJson::array({std::move(call)});
      break;
    }
  }
  return sse_event(chat_chunk_json(id_, body, logprobs, nullptr, index_));
}

std::string OpenAiChatStreamWriter::end(const ChatOutcome& outcome) {
  OutJson body;
  body["role"] = "assistant";
  if (outcome.output.tool_calls.empty() || !final_content_.empty()) body["content"] = final_content_;
  return sse_event(chat_chunk_json(id_, body, take_logprobs(), outcome.openai_finish_reason(), index_));
}

std::string OpenAiChatStreamWriter::error(const std::string& message) {
  return sse_event(openai_stream_error(message));
}

}  // namespace tgi::server
