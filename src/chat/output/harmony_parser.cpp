#include "chat/output/harmony_parser.h"

#include "chat/output/marker_matcher.h"

namespace tgi::chat {
namespace {

constexpr std::string_view kMessage = "<|message|>";
constexpr std::string_view kChannel = "<|channel|>";
constexpr std::string_view kStart = "<|start|>";
// A header longer than this is not a header: the model is writing text without one.
constexpr size_t kMaxHeader = 512;

const std::vector<std::string>& body_ends() {
  static const std::vector<std::string> ends{"<|end|>", "<|call|>", "<|return|>", std::string(kStart)};
  return ends;
}

// The value after `key` in a header, up to a space or the next special token.
std::string header_field(std::string_view header, std::string_view key) {
  size_t at = header.find(key);
  if (at == std::string_view::npos) return {};
  size_t begin = at + key.size();
  size_t end = header.find_first_of(" <", begin);
  return std::string(header.substr(begin, (end == std::string_view::npos ? header.size() : end) - begin));
}

// Headers start with a special token or (after the prompt's "<|start|>assistant") a recipient.
bool may_be_header(std::string_view text) {
  for (std::string_view start : {std::string_view("<|"), std::string_view(" to="), std::string_view("to=")}) {
    size_t n = std::min(text.size(), start.size());
    if (text.substr(0, n) == start.substr(0, n)) return true;
  }
  return false;
}

}  // namespace

HarmonyParser::HarmonyParser(bool parse_tool_calls, bool separate_reasoning)
    : parse_tool_calls_(parse_tool_calls), separate_reasoning_(separate_reasoning) {}

void HarmonyParser::feed(std::string_view text, std::vector<OutputDelta>& out) {
  pending_.append(text);
  process(false, out);
}

void HarmonyParser::finish(std::vector<OutputDelta>& out) {
  process(true, out);
  if (!pending_.empty()) {
    emit_body(pending_, out);  // an unfinished header is text the model wrote
    pending_.clear();
  }
  reasoning_.finish(out);
  content_.finish(out);
}

void HarmonyParser::process(bool at_end, std::vector<OutputDelta>& out) {
  while (in_header_ ? process_header(at_end, out) : process_body(at_end, out)) {
  }
}

bool HarmonyParser::process_header(bool at_end, std::vector<OutputDelta>& out) {
  if (pending_.empty()) return false;
  size_t message = pending_.find(kMessage);
  if (message != std::string::npos && message <= kMaxHeader && may_be_header(pending_)) {
    start_message(std::string_view(pending_).substr(0, message), out);
    pending_.erase(0, message + kMessage.size());
    in_header_ = false;
    return true;
  }
  if (!at_end && may_be_header(pending_) && pending_.size() <= kMaxHeader) return false;
  // Not a header: the text is content of an implicit final message.
  if (at_end && message == std::string::npos) return false;
  target_ = Target::kContent;
  in_header_ = false;
  return true;
}

void HarmonyParser::start_message(std::string_view header, std::vector<OutputDelta>& out) {
  std::string channel = header_field(header, kChannel);
  std::string recipient = header_field(header, "to=");
  if (!recipient.empty() && parse_tool_calls_) {
    if (recipient.rfind("functions.", 0) == 0) recipient.erase(0, 10);
    target_ = Target::kToolCall;
    out.push_back({OutputDelta::Kind::kToolCallStart, next_tool_index_, recipient});
  } else if (channel == "analysis") {
    target_ = Target::kReasoning;
  } else {
    target_ = Target::kContent;
  }
}

void HarmonyParser::emit_body(std::string_view text, std::vector<OutputDelta>& out) {
  if (text.empty()) return;
  switch (target_) {
    case Target::kReasoning:
      (separate_reasoning_ ? reasoning_ : content_).add(text, out);
      break;
    case Target::kContent:
      content_.add(text, out);
      break;
    case Target::kToolCall:
      out.push_back({OutputDelta::Kind::kToolCallArguments, next_tool_index_, std::string(text)});
      break;
  }
}

bool HarmonyParser::process_body(bool at_end, std::vector<OutputDelta>& out) {
  if (pending_.empty()) return false;
  MarkerMatch m = find_first_marker(pending_, body_ends(), at_end);
  if (m.kind == MarkerMatch::Kind::kFull) {
    emit_body(std::string_view(pending_).substr(0, m.position), out);
    const std::string& marker = body_ends()[m.marker];
    // "<|start|>" begins the next header; the other markers end this message.
    pending_.erase(0, m.position + (marker == kStart ? 0 : marker.size()));
    if (target_ == Target::kToolCall) ++next_tool_index_;
    target_ = Target::kContent;
    in_header_ = true;
    return true;
  }
  size_t keep = m.kind == MarkerMatch::Kind::kPartial ? m.position : pending_.size();
  // Tool arguments go out raw: do not split a UTF-8 character between two deltas.
  if (target_ == Target::kToolCall && !at_end)
    keep = utf8_complete_prefix(std::string_view(pending_).substr(0, keep));
  emit_body(std::string_view(pending_).substr(0, keep), out);
  pending_.erase(0, keep);
  return false;
}

}  // namespace tgi::chat
