#pragma once
// Finds the first of a set of markers in streamed text, telling apart "found", "the text ends
// with what may become a marker" (hold that tail back) and "none here" (all of it is plain text).
#include <string>
#include <string_view>
#include <vector>

namespace tgi::chat {

struct MarkerMatch {
  enum class Kind { kNone, kFull, kPartial } kind = Kind::kNone;
  size_t position = 0;  // kFull / kPartial: where the (possible) marker starts
  size_t marker = 0;    // kFull: index into the marker list
};

// At the earliest position where a marker matches or may still match, the longest full match
// wins, unless a longer marker is still possible there (then kPartial, unless at_end).
MarkerMatch find_first_marker(std::string_view text, const std::vector<std::string>& markers, bool at_end);

// True when `text` starts with `marker`; `partial` is set when text is a proper prefix of it.
bool starts_with_marker(std::string_view text, std::string_view marker, bool* partial = nullptr);

}  // namespace tgi::chat
