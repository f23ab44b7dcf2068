#pragma once
// One file's download progress, on the shared reporter (core/progress.h): a bar redrawn on a
// terminal, a line every tenth in a log, JSON under `serve --json-output`. Fed by the hub client's
// (done, total) callback, whose total may be unknown (0) at first and whose done starts at the
// bytes a resumed download already had.
#include <cstdint>
#include <memory>
#include <string>

#include "core/progress.h"

namespace tgi::formats {

class DownloadProgressBar {
 public:
  // Disabled, it reports nothing (`ResolveOptions::show_progress` off).
  DownloadProgressBar(std::string label, bool enabled) : label_(std::move(label)), enabled_(enabled) {}
  void update(uint64_t done, uint64_t total);
  void finish();   // the file arrived: the closing line
  void abandon();  // the attempt failed: end the bar's line, claim nothing (a retry starts afresh)

 private:
  std::string label_;
  bool enabled_;
  std::unique_ptr<Progress> progress_;  // one per attempt, from its first callback
};

}  // namespace tgi::formats
