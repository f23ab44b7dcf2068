#include "engine/ngram_proposer.h"

#include <algorithm>

namespace tgi::engine {

int32_t NgramProposer::propose(std::span<const int32_t> tokens, int32_t max_tokens,
                               std::vector<int32_t>& out) const {
  out.clear();
  const auto length = static_cast<int64_t>(tokens.size());
  if (max_tokens <= 0) return 0;
  const int64_t window_start = std::max<int64_t>(0, length - config_.max_lookback);
  for (int32_t n = std::min<int32_t>(config_.max_ngram, static_cast<int32_t>(length) - 1);
       n >= config_.min_ngram && n >= 1; --n) {
    const std::span<const int32_t> suffix = tokens.subspan(static_cast<size_t>(length - n));
    // An occurrence starting at i is followed by tokens[i + n]; it must end before the suffix
    // itself starts so that at least one following token exists and is not the suffix's own.
    for (int64_t i = length - n - 1; i >= window_start; --i) {
      if (tokens[static_cast<size_t>(i)] != suffix[0]) continue;
      if (!std::equal(suffix.begin() + 1, suffix.end(), tokens.begin() + i + 1)) continue;
      // The text after the occurrence, continued periodically once it runs into the present:
      // the distance from the occurrence to now is the period of the repetition.
      const int64_t from = i + n;
      for (int64_t j = 0; j < max_tokens; ++j) {
        const int64_t at = from + j;
        out.push_back(at < length ? tokens[static_cast<size_t>(at)] : out[static_cast<size_t>(at - length)]);
      }
      return static_cast<int32_t>(out.size());
    }
  }
  return 0;
}

}  // namespace tgi::engine
