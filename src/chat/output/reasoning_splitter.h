#pragma once
// First stage of parsing: splits the raw output into thinking and the rest ("body"), removing
// the reasoning markers. Thinking is recognised only at the start of the output (or from the
// first byte, when the prompt opened it): models think before they answer, and a "<think>" later
// in an answer is text about tags, not a second thought.
#include <string>
#include <string_view>
#include <vector>

namespace tgi::chat {

struct SplitPiece {
  enum class Kind { kReasoning, kBody, kMarker } kind;  // kMarker: the reasoning markers themselves
  std::string text;
};

class ReasoningSplitter {
 public:
  ReasoningSplitter(std::string open, std::string close, bool starts_in_reasoning);
  void feed(std::string_view text, std::vector<SplitPiece>& out);
  void finish(std::vector<SplitPiece>& out);

 private:
  void process(bool at_end, std::vector<SplitPiece>& out);

  enum class State { kBeforeBody, kReasoningStart, kReasoning, kBody } state_;
  enum class Opening { kFound, kAbsent, kUndecided };
  // Consumes leading whitespace and the opening marker when the pending text starts with them.
  Opening take_opening_marker(bool at_end, std::vector<SplitPiece>& out);
  std::string open_, close_;
  std::string pending_;
};

}  // namespace tgi::chat
