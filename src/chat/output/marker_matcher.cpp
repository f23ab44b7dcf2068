#include "chat/output/marker_matcher.h"

namespace tgi::chat {

bool starts_with_marker(std::string_view text, std::string_view marker, bool* partial) {
  if (partial) *partial = false;
  if (marker.empty()) return false;
  if (text.size() >= marker.size()) return text.substr(0, marker.size()) == marker;
  if (partial) *partial = marker.substr(0, text.size()) == text;
  return false;
}

MarkerMatch find_first_marker(std::string_view text, const std::vector<std::string>& markers, bool at_end) {
  // Candidate starts are the positions of the markers' first bytes; scanning bytewise is cheap
  // next to everything else and keeps the rule obvious.
  for (size_t pos = 0; pos < text.size(); ++pos) {
    std::string_view rest = text.substr(pos);
    MarkerMatch best;
    bool longer_possible = false;
    size_t best_length = 0;
    for (size_t i = 0; i < markers.size(); ++i) {
      const std::string& m = markers[i];
      if (m.empty() || m[0] != rest[0]) continue;
      bool partial = false;
      if (starts_with_marker(rest, m, &partial)) {
        if (m.size() > best_length) {
          best = {MarkerMatch::Kind::kFull, pos, i};
          best_length = m.size();
        }
      } else if (partial) {
        longer_possible = true;
      }
    }
    // A proper prefix of a marker is longer than any full match here: wait for it to decide.
    if (longer_possible && !at_end) return {MarkerMatch::Kind::kPartial, pos, 0};
    if (best.kind == MarkerMatch::Kind::kFull) return best;
  }
  return {};
}

}  // namespace tgi::chat
