#include "engine/speculation.h"

#include <algorithm>
#include <cmath>

namespace tgi::engine {

void AcceptanceEstimate::record(int32_t proposed, int32_t accepted) {
  if (proposed <= 0) return;
  constexpr double kKeep = 0.8;  // about the last five proposals count
  kept_ = kKeep * kept_ + accepted;
  rejected_ = kKeep * rejected_ + (accepted < proposed ? 1 : 0);
}

void AcceptanceEstimate::on_step_without_proposal() {
  constexpr double kForget = 0.95;  // back near 1/2 after some tens of steps
  kept_ *= kForget;
  rejected_ *= kForget;
}

std::vector<int32_t> choose_proposal_lengths(const StepCostModel& costs, int32_t base_rows,
                                             std::span<const double> rates,
                                             std::span<const int32_t> available, double seconds_per_depth) {
  std::vector<int32_t> lengths(available.size(), 0);
  // Without a measured step of the base rows alone, a guess could make speculation look free
  // forever (nothing cheaper would ever be measured): run one plain step first.
  if (!costs.measured(base_rows)) return lengths;
  int32_t rows = base_rows;
  int32_t depth = 0;            // the longest proposal so far
  double expected = base_rows;  // tokens the step yields without speculation
  auto seconds = [&](int32_t r, int32_t d) { return costs.estimate(r) + seconds_per_depth * d; };
  while (true) {
    // The next proposal worth most: the longest-surviving-chance one across sequences.
    size_t best = available.size();
    double gain = 0;
    for (size_t i = 0; i < available.size(); ++i) {
      if (lengths[i] >= available[i]) continue;
      const double g = std::pow(rates[i], lengths[i] + 1);
      if (g > gain) gain = g, best = i;
    }
    if (best == available.size()) break;
    const int32_t new_depth = std::max(depth, lengths[best] + 1);
    const double now = expected / seconds(rows, depth);
    const double then = (expected + gain) / seconds(rows + 1, new_depth);
    if (then <= now) break;
    ++lengths[best];
    ++rows;
    depth = new_depth;
    expected += gain;
  }
  return lengths;
}

}  // namespace tgi::engine
