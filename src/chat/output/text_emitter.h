#pragma once
// Emits one kind of text (content or reasoning) as deltas, trimmed the way peers present it:
// leading whitespace is dropped, trailing whitespace is held until more text follows (so "\n\n"
// after </think> or between tool calls never reaches the client), and a UTF-8 character split
// across feeds is held until complete so every delta is valid UTF-8 on its own. Plain content
// (no thinking before it, no tool call beside it) is not trimmed: it is the text as generated,
// byte for byte, as TGI returns it; trimming starts when a marker gives the edges a meaning.
#include <string>
#include <string_view>
#include <vector>

#include "chat/output/assistant_output.h"

namespace tgi::chat {

// Length of the longest prefix of `text` that does not end inside a UTF-8 character.
size_t utf8_complete_prefix(std::string_view text);

bool is_space(char c);
std::string_view trim_spaces(std::string_view text);

class TrimmedTextEmitter {
 public:
  TrimmedTextEmitter(OutputDelta::Kind kind, bool trim_edges) : kind_(kind), trim_edges_(trim_edges) {}
  // From now on leading (if nothing was emitted yet) and final trailing whitespace are dropped.
  void trim_edges();
  void add(std::string_view text, std::vector<OutputDelta>& out);
  // The text ended: what is held back is trailing whitespace (dropped) or a broken character.
  void finish(std::vector<OutputDelta>& out);

 private:
  OutputDelta::Kind kind_;
  bool trim_edges_ = true;
  bool started_ = false;
  bool emitted_ = false;
  std::string held_;  // trailing whitespace, then possibly an incomplete UTF-8 sequence
};

}  // namespace tgi::chat
