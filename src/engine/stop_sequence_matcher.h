#pragma once
// Stop sequences matched on the detokenized text as it streams, across token boundaries.
// Text that might be the beginning of a stop sequence is held back until it is known not to be;
// on a match the stop sequence and anything after it are dropped (never emitted).
#include <string>
#include <string_view>
#include <vector>

namespace tgi::engine {

class StopSequenceMatcher {
 public:
  explicit StopSequenceMatcher(std::vector<std::string> stop_sequences);

  // Appends newly decoded text; returns the text that is now safe to emit. Once stopped(),
  // further pushes are ignored.
  std::string push(std::string_view piece);
  // The generation ended for another reason: releases what was held back.
  std::string flush();

  bool stopped() const { return stopped_; }
  // All text so far (up to, excluding, the stop sequence once stopped), emitted or held.
  const std::string& text() const { return text_; }

 private:
  std::vector<std::string> stops_;
  std::string text_;
  size_t emitted_ = 0;
  bool stopped_ = false;
};

}  // namespace tgi::engine
