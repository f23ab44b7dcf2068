#include "engine/speculation.h"

#include <algorithm>

namespace tgi::engine {

void SpeculationPacer::record(int32_t proposed, int32_t accepted) {
  if (proposed <= 0) return;
  constexpr double kWeight = 0.25;  // about the last four proposals count
  acceptance_ = (1 - kWeight) * acceptance_ + kWeight * static_cast<double>(accepted) / proposed;
  length_ = accepted == proposed ? std::min(max_, length_ + 1) : std::clamp(accepted + 1, 1, max_);
  if (acceptance_ < kMinAcceptance) cooldown_ = kCooldownSteps;
}

}  // namespace tgi::engine
