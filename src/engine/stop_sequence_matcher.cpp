#include "engine/stop_sequence_matcher.h"

#include <algorithm>

namespace tgi::engine {

StopSequenceMatcher::StopSequenceMatcher(std::vector<std::string> stop_sequences) {
  for (auto& s : stop_sequences)
    if (!s.empty()) stops_.push_back(std::move(s));
}

std::string StopSequenceMatcher::push(std::string_view piece) {
  if (stopped_) return {};
  text_.append(piece);
  // A stop can only start in the unemitted tail: anything that could have begun one was held.
  size_t match = std::string::npos;
  for (const auto& stop : stops_) match = std::min(match, text_.find(stop, emitted_));
  if (match != std::string::npos) {
    stopped_ = true;
    std::string out = text_.substr(emitted_, match - emitted_);
    text_.resize(match);
    emitted_ = match;
    return out;
  }
  // Hold back the longest tail that is a proper prefix of some stop sequence.
  const size_t pending = text_.size() - emitted_;
  size_t held = 0;
  for (const auto& stop : stops_) {
    for (size_t len = std::min(pending, stop.size() - 1); len > held; --len) {
      if (text_.compare(text_.size() - len, len, stop, 0, len) == 0) {
        held = len;
        break;
      }
    }
  }
  const size_t end = text_.size() - held;
  std::string out = text_.substr(emitted_, end - emitted_);
  emitted_ = end;
  return out;
}

std::string StopSequenceMatcher::flush() {
  std::string out = text_.substr(emitted_);
  emitted_ = text_.size();
  return out;
}

}  // namespace tgi::engine
