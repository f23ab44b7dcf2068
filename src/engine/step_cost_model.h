#pragma once
// What a forward pass costs by the number of query rows it computes, learned from the steps the
// engine runs. Speculation asks it whether verifying more rows pays: on a CPU whose batch-1 step
// is bound by reading the weights, a few more rows are nearly free; where arithmetic is the
// bound (AVX2 without VNNI, large batches) every row costs close to its full price.
#include <cstdint>
#include <vector>

namespace tgi::engine {

class StepCostModel {
 public:
  static constexpr int32_t kMaxRows = 1024;
  // Unmeasured row counts above the largest measured one are guessed this much dearer per extra
  // row (relative to that measurement): optimistic, so that they get tried and measured.
  static constexpr double kExplorationSlope = 0.1;

  void record(int32_t rows, double seconds);
  // Seconds for a step of `rows` rows: the measured moving average; between measured counts, the
  // line through the nearest ones; above or below them, optimistic guesses (more rows: a little
  // dearer per row; fewer rows: proportionally cheaper); 0 when nothing is known.
  double estimate(int32_t rows) const;
  bool measured(int32_t rows) const { return rows >= 1 && rows <= kMaxRows && seconds_[rows] > 0; }

 private:
  std::vector<double> seconds_ = std::vector<double>(kMaxRows + 1, 0.0);  // 0: not measured
};

}  // namespace tgi::engine
