#include "dist/communicator.h"

#include <algorithm>

#include "core/scratch.h"

namespace tgi::dist {

class ThreadGroup::Member final : public Communicator {
 public:
  Member(std::shared_ptr<Shared> shared, int rank, int world_size)
      : shared_(std::move(shared)), rank_(rank), world_size_(world_size) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_size_; }

  void all_reduce_sum(backend::Backend&, float* data, int64_t n) override {
    shared_->buffers[static_cast<size_t>(rank_)] = data;
    shared_->sync.arrive_and_wait();  // every rank's partial sums are in place
    grow(sum_, n);
    for (int64_t i = 0; i < n; ++i) {
      float s = shared_->buffers[0][i];
      for (int r = 1; r < world_size_; ++r) s += shared_->buffers[static_cast<size_t>(r)][i];
      sum_[static_cast<size_t>(i)] = s;
    }
    shared_->sync.arrive_and_wait();  // nobody reads another rank's buffer any more
    std::copy(sum_.begin(), sum_.begin() + n, data);
  }

  void all_gather_columns(const float* local, int64_t rows, int64_t cols, float* out) override {
    shared_->blocks[static_cast<size_t>(rank_)] = local;
    shared_->sync.arrive_and_wait();
    const int64_t width = cols * world_size_;
    for (int r = 0; r < world_size_; ++r) {
      const float* block = shared_->blocks[static_cast<size_t>(r)];
      for (int64_t row = 0; row < rows; ++row)
        std::copy(block + row * cols, block + (row + 1) * cols, out + row * width + r * cols);
    }
    shared_->sync.arrive_and_wait();  // nobody reads another rank's block any more
  }

 private:
  std::shared_ptr<Shared> shared_;
  int rank_;
  int world_size_;
  std::vector<float> sum_;  // grown to the largest step, then reused
};

void SingleRank::all_gather_columns(const float* local, int64_t rows, int64_t cols, float* out) {
  std::copy(local, local + rows * cols, out);
}

ThreadGroup::ThreadGroup(int world_size)
    : world_size_(world_size), shared_(std::make_shared<Shared>(world_size)) {}

std::unique_ptr<Communicator> ThreadGroup::member(int rank) {
  return std::make_unique<Member>(shared_, rank, world_size_);
}

}  // namespace tgi::dist
