#include "formats/download_progress.h"

#include <cstdio>

#include <fmt/format.h>

namespace tgi::formats {

void DownloadProgressBar::update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  const int permille = total > 0 ? static_cast<int>(done * 1000 / total) : -1;
  // Redraw only when the bar visibly changes (or every MiB without a total), not per packet.
  if (total > 0 ? permille == last_permille_ : done - last_done_ < (1u << 20)) return;
  last_permille_ = permille;
  last_done_ = done;
  constexpr int kWidth = 30;
  std::string line;
  if (total > 0) {
    const int filled = permille * kWidth / 1000;
    line = fmt::format("\r{:<40.40} [{}{}] {:3}%  {:.1f}/{:.1f} MB", label_, std::string(filled, '#'),
                       std::string(kWidth - filled, '.'), permille / 10, done / 1e6, total / 1e6);
  } else {
    line = fmt::format("\r{:<40.40} {:.1f} MB", label_, done / 1e6);
  }
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void DownloadProgressBar::finish() {
  if (enabled_ && drawn_) std::fputs("\n", stderr);
  drawn_ = false;
}

}  // namespace tgi::formats
