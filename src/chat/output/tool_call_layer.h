#pragma once
// Second stage of parsing: splits the body (the output after any thinking) into content and tool
// calls. In content it looks for a block open marker, holding back only a tail that may become
// one; in a block it re-reads the block with its scanner as text arrives and announces what the
// scanner newly knows (a call's name, more of its arguments).
#include <string>
#include <string_view>
#include <vector>

#include "chat/output/assistant_output.h"
#include "chat/output/block_scan.h"
#include "chat/output/output_format.h"
#include "chat/output/text_emitter.h"

namespace tgi::chat {

class ToolCallLayer {
 public:
  // content: where content text goes (shared with the reasoning stage's pass-through).
  ToolCallLayer(const OutputFormat& format, bool parse_tool_calls, TrimmedTextEmitter& content);
  void feed(std::string_view body, std::vector<OutputDelta>& out);
  void finish(std::vector<OutputDelta>& out);

 private:
  enum class Mode { kContent, kBlock };
  enum class BlockKind { kMarked, kShapeJson, kShapePythonic };

  void process(bool at_end, std::vector<OutputDelta>& out);
  // Returns false when it needs more text.
  bool process_content(bool at_end, std::vector<OutputDelta>& out);
  bool process_block(bool at_end, std::vector<OutputDelta>& out);
  bool try_enter_shape_block(bool at_end);
  BlockScan scan_block(bool at_end) const;
  void announce(const std::vector<ScannedCall>& calls, bool final, std::vector<OutputDelta>& out);
  void emit_content(std::string_view text, std::vector<OutputDelta>& out);

  OutputFormat format_;
  OutputFormat shape_format_;  // the same, with no markers: for whole outputs shaped like a call
  bool parse_tool_calls_;
  TrimmedTextEmitter& content_;
  std::vector<std::string> content_markers_;  // block opens, then ignored markers
  std::string pending_;
  Mode mode_ = Mode::kContent;
  BlockKind block_kind_ = BlockKind::kMarked;
  std::string block_open_;  // the marker that opened the block (content if it fails)
  bool shape_possible_;     // no content yet: the output may still be a bare call
  size_t next_tool_index_ = 0;
  std::vector<size_t> announced_arguments_;  // per call of the open block: argument bytes sent
};

}  // namespace tgi::chat
