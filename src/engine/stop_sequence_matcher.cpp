#include "engine/stop_sequence_matcher.h"

namespace tgi::engine {

StopSequenceMatcher::StopSequenceMatcher(std::vector<std::string> stop_sequences) {
  for (auto& s : stop_sequences)
    if (!s.empty()) stops_.push_back(std::move(s));
}

void StopSequenceMatcher::push(std::string_view piece) {
  if (stopped_ || piece.empty()) return;
  text_.append(piece);
  for (const auto& stop : stops_)
    if (std::string_view(text_).ends_with(stop)) stopped_ = true;
}

}  // namespace tgi::engine
