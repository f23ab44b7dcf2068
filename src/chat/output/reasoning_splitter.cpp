#include "chat/output/reasoning_splitter.h"

#include "chat/output/marker_matcher.h"
#include "chat/output/text_emitter.h"

namespace tgi::chat {

ReasoningSplitter::ReasoningSplitter(std::string open, std::string close, bool starts_in_reasoning)
    : state_(open.empty()          ? State::kBody
             : starts_in_reasoning ? State::kReasoningStart
                                   : State::kBeforeBody),
      open_(std::move(open)),
      close_(std::move(close)) {}

void ReasoningSplitter::feed(std::string_view text, std::vector<SplitPiece>& out) {
  if (state_ == State::kBody) {
    if (!text.empty()) out.push_back({SplitPiece::Kind::kBody, std::string(text)});
    return;
  }
  pending_.append(text);
  process(false, out);
}

void ReasoningSplitter::finish(std::vector<SplitPiece>& out) {
  process(true, out);
  if (!pending_.empty()) {
    // An unfinished thought stays thought; anything else held back is body.
    out.push_back(
        {state_ == State::kReasoning ? SplitPiece::Kind::kReasoning : SplitPiece::Kind::kBody, pending_});
    pending_.clear();
  }
}

ReasoningSplitter::Opening ReasoningSplitter::take_opening_marker(bool at_end, std::vector<SplitPiece>& out) {
  size_t start = 0;
  while (start < pending_.size() && is_space(pending_[start])) ++start;
  if (start == pending_.size() && !at_end) return Opening::kUndecided;
  bool partial = false;
  if (starts_with_marker(std::string_view(pending_).substr(start), open_, &partial)) {
    out.push_back({SplitPiece::Kind::kMarker, pending_.substr(0, start + open_.size())});
    pending_.erase(0, start + open_.size());
    return Opening::kFound;
  }
  return partial && !at_end ? Opening::kUndecided : Opening::kAbsent;
}

void ReasoningSplitter::process(bool at_end, std::vector<SplitPiece>& out) {
  while (!pending_.empty()) {
    if (state_ == State::kBeforeBody || state_ == State::kReasoningStart) {
      // Whitespace may precede the opening marker; anything else means there is no thinking. When
      // the prompt opened the thinking, a model that opens it again writes a marker, not thought.
      const Opening opening = take_opening_marker(at_end, out);
      if (opening == Opening::kUndecided) return;
      state_ =
          opening == Opening::kFound || state_ == State::kReasoningStart ? State::kReasoning : State::kBody;
      continue;
    }
    if (state_ == State::kBody) {
      out.push_back({SplitPiece::Kind::kBody, pending_});
      pending_.clear();
      return;
    }
    // Reasoning: everything up to the closing marker, holding back a possible partial marker.
    MarkerMatch m = find_first_marker(pending_, {close_}, at_end);
    if (m.kind == MarkerMatch::Kind::kFull) {
      if (m.position > 0) out.push_back({SplitPiece::Kind::kReasoning, pending_.substr(0, m.position)});
      out.push_back({SplitPiece::Kind::kMarker, close_});
      pending_.erase(0, m.position + close_.size());
      state_ = State::kBody;
      continue;
    }
    size_t keep = m.kind == MarkerMatch::Kind::kPartial ? m.position : pending_.size();
    if (keep > 0) out.push_back({SplitPiece::Kind::kReasoning, pending_.substr(0, keep)});
    pending_.erase(0, keep);
    return;
  }
}

}  // namespace tgi::chat
