#include "chat/output/tool_call_layer.h"

#include "chat/output/marker_matcher.h"

namespace tgi::chat {

using S = BlockScan::Status;

ToolCallLayer::ToolCallLayer(const OutputFormat& format, bool parse_tool_calls, TrimmedTextEmitter& content)
    : format_(format),
      shape_format_(format),
      parse_tool_calls_(parse_tool_calls),
      content_(content),
      shape_possible_(parse_tool_calls && format.tool_syntax != ToolCallSyntax::kHarmony) {
  shape_format_.block_close.clear();
  if (parse_tool_calls_) content_markers_ = format_.block_opens;
  // Wrappers are never content, whether or not tools were offered.
  content_markers_.insert(content_markers_.end(), format_.ignored_markers.begin(),
                          format_.ignored_markers.end());
  if (parse_tool_calls_ && format_.generation_opens_block) {
    content_.trim_edges();
    mode_ = Mode::kBlock;
    shape_possible_ = false;
  }
}

void ToolCallLayer::feed(std::string_view body, std::vector<OutputDelta>& out) {
  pending_.append(body);
  process(false, out);
}

void ToolCallLayer::finish(std::vector<OutputDelta>& out) {
  process(true, out);
}

void ToolCallLayer::process(bool at_end, std::vector<OutputDelta>& out) {
  while (mode_ == Mode::kContent ? process_content(at_end, out) : process_block(at_end, out)) {
  }
}

void ToolCallLayer::emit_content(std::string_view text, std::vector<OutputDelta>& out) {
  if (!trim_spaces(text).empty()) shape_possible_ = false;
  content_.add(text, out);
}

bool ToolCallLayer::try_enter_shape_block(bool at_end) {
  size_t start = skip_spaces(pending_, 0);
  if (start == pending_.size()) return false;
  char c = pending_[start];
  bool partial = false;
  bool fence = starts_with_marker(std::string_view(pending_).substr(start), "```", &partial) || partial;
  if (partial && !at_end) return false;
  if (c != '{' && c != '[' && !fence) {
    shape_possible_ = false;
    return false;
  }
  pending_.erase(0, start);  // leading whitespace is never shown
  content_.trim_edges();
  mode_ = Mode::kBlock;
  block_kind_ = c == '[' && format_.shape_may_be_pythonic ? BlockKind::kShapePythonic : BlockKind::kShapeJson;
  block_open_.clear();
  announced_arguments_.clear();
  return true;
}

bool ToolCallLayer::process_content(bool at_end, std::vector<OutputDelta>& out) {
  if (pending_.empty()) return false;
  if (shape_possible_) {
    if (try_enter_shape_block(at_end)) return true;
    if (shape_possible_ && !at_end) return false;  // only whitespace or a fence's first backticks so far
    shape_possible_ = false;
  }
  MarkerMatch m = find_first_marker(pending_, content_markers_, at_end);
  if (m.kind == MarkerMatch::Kind::kFull) {
    const std::string& marker = content_markers_[m.marker];
    emit_content(std::string_view(pending_).substr(0, m.position), out);
    pending_.erase(0, m.position + marker.size());
    if (parse_tool_calls_ && m.marker < format_.block_opens.size()) {
      content_.trim_edges();  // text beside a call is shown without its surrounding whitespace
      mode_ = Mode::kBlock;
      block_kind_ = BlockKind::kMarked;
      block_open_ = marker;
      announced_arguments_.clear();
    }
    return true;
  }
  size_t keep = m.kind == MarkerMatch::Kind::kPartial ? m.position : pending_.size();
  emit_content(std::string_view(pending_).substr(0, keep), out);
  pending_.erase(0, keep);
  return false;
}

BlockScan ToolCallLayer::scan_block(bool at_end) const {
  std::string_view text = pending_;
  switch (block_kind_) {
    case BlockKind::kShapeJson:
      return scan_json_call_block(text, shape_format_, at_end, true);
    case BlockKind::kShapePythonic: {
      // "[" may open pythonic calls or a JSON list of call objects.
      BlockScan scan = scan_pythonic_call_block(text, shape_format_, at_end);
      if (scan.status == S::kInvalid && scan.calls.empty())
        return scan_json_call_block(text, shape_format_, at_end, true);
      return scan;
    }
    case BlockKind::kMarked:
      break;
  }
  switch (format_.tool_syntax) {
    case ToolCallSyntax::kNameThenJson:
      return scan_name_then_json_block(text, format_, at_end);
    case ToolCallSyntax::kXmlParameters:
      return scan_xml_call_block(text, format_, at_end);
    case ToolCallSyntax::kPythonic:
      return scan_pythonic_call_block(text, format_, at_end);
    case ToolCallSyntax::kGemma4:
      return scan_gemma4_call_block(text, format_, at_end);
    default:
      return scan_json_call_block(text, format_, at_end, false);
  }
}

void ToolCallLayer::announce(const std::vector<ScannedCall>& calls, bool final,
                             std::vector<OutputDelta>& out) {
  for (size_t i = 0; i < calls.size(); ++i) {
    const ScannedCall& call = calls[i];
    size_t index = next_tool_index_ + i;
    if (i >= announced_arguments_.size()) {
      out.push_back({OutputDelta::Kind::kToolCallStart, index, call.name});
      announced_arguments_.push_back(0);
    }
    size_t& sent = announced_arguments_[i];
    // Partial arguments stop before a split UTF-8 character, so each delta is valid text.
    size_t limit =
        final || call.arguments_complete ? call.arguments.size() : utf8_complete_prefix(call.arguments);
    if (limit > sent) {
      out.push_back(
          {OutputDelta::Kind::kToolCallArguments, index, call.arguments.substr(sent, limit - sent)});
      sent = limit;
    }
  }
}

bool ToolCallLayer::process_block(bool at_end, std::vector<OutputDelta>& out) {
  BlockScan scan = scan_block(at_end);
  if (at_end && scan.status == S::kNeedMore) {
    scan.status = S::kInvalid;
    scan.end = pending_.size();
  }
  announce(scan.calls, scan.status != S::kNeedMore, out);
  switch (scan.status) {
    case S::kNeedMore:
      return false;
    case S::kInvalid:
      if (scan.calls.empty()) {
        // Nothing was a call: the marker and the text after it are content after all.
        if (block_kind_ == BlockKind::kMarked) {
          emit_content(block_open_, out);
        }
        shape_possible_ = false;
        mode_ = Mode::kContent;
        announced_arguments_.clear();
        return true;
      }
      [[fallthrough]];
    case S::kComplete:
    case S::kNotACall:
      pending_.erase(0, std::min(scan.end, pending_.size()));
      next_tool_index_ += scan.calls.size();
      announced_arguments_.clear();
      shape_possible_ = false;
      mode_ = Mode::kContent;
      return true;
  }
  return false;
}

}  // namespace tgi::chat
