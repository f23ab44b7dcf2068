#include "formats/download_progress.h"

namespace tgi::formats {

void DownloadProgressBar::update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  if (!progress_) progress_ = std::make_unique<Progress>(label_, total);
  progress_->set_total(total);
  progress_->update(done);
}

void DownloadProgressBar::finish() {
  if (progress_) progress_->finish();
  progress_.reset();
}

void DownloadProgressBar::abandon() {
  if (progress_) progress_->abandon();
  progress_.reset();
}

}  // namespace tgi::formats
