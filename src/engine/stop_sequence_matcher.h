#pragma once
// Stop sequences as TGI applies them: after each decoded piece of text, the generation stops if
// the text so far ends with one of the stop strings (spec §1.5). The stop string stays in the
// generated text; a stop string that a token overshoots (".\n" when the stop is ".") does not
// match, exactly as TGI's `stop$` regex does not.
#include <string>
#include <string_view>
#include <vector>

namespace tgi::engine {

class StopSequenceMatcher {
 public:
  explicit StopSequenceMatcher(std::vector<std::string> stop_sequences);

  // Appends newly decoded text. Once stopped(), further pushes are ignored.
  void push(std::string_view piece);

  bool stopped() const { return stopped_; }
  // All text so far, including the stop sequence that ended it.
  const std::string& text() const { return text_; }

 private:
  std::vector<std::string> stops_;
  std::string text_;
  bool stopped_ = false;
};

}  // namespace tgi::engine
