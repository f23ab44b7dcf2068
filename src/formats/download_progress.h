#pragma once
// A one-line progress bar on stderr for a TTY:  config.json  [#####.....]  52%  1.2/2.3 MB
#include <cstdint>
#include <string>

namespace tgi::formats {

class DownloadProgressBar {
 public:
  DownloadProgressBar(std::string label, bool enabled) : label_(std::move(label)), enabled_(enabled) {}
  void update(uint64_t done, uint64_t total);
  void finish();  // ends the line

 private:
  std::string label_;
  bool enabled_;
  int last_permille_ = -1;
  uint64_t last_done_ = 0;
  bool drawn_ = false;
};

}  // namespace tgi::formats
