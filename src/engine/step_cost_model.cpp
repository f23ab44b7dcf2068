#include "engine/step_cost_model.h"

#include <algorithm>

namespace tgi::engine {

void StepCostModel::record(int32_t rows, double seconds) {
  if (rows <= 0 || seconds <= 0) return;
  double& s = seconds_[static_cast<size_t>(std::min(rows, kMaxRows))];
  constexpr double kWeight = 0.2;  // recent steps count most: contexts grow, the host's load drifts
  s = s == 0 ? seconds : (1 - kWeight) * s + kWeight * seconds;
}

double StepCostModel::estimate(int32_t rows) const {
  rows = std::clamp(rows, 1, kMaxRows);
  if (seconds_[rows] > 0) return seconds_[rows];
  int32_t below = rows - 1, above = rows + 1;
  while (below >= 1 && seconds_[below] == 0) --below;
  while (above <= kMaxRows && seconds_[above] == 0) ++above;
  const bool has_below = below >= 1, has_above = above <= kMaxRows;
  if (has_below && has_above) {
    const double f = static_cast<double>(rows - below) / (above - below);
    return seconds_[below] + f * (seconds_[above] - seconds_[below]);
  }
  if (has_below) return seconds_[below] * (1 + kExplorationSlope * (rows - below) / below);
  // Below every measurement: proportional to the rows, an optimistic guess (a step has fixed
  // costs too) so that the smaller step gets tried and measured.
  if (has_above) return seconds_[above] * rows / above;
  return 0;
}

}  // namespace tgi::engine
