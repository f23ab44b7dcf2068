#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tgi::model {
namespace {

std::vector<double> base_inv_freq(double theta, int64_t dim) {
  std::vector<double> inv(static_cast<size_t>(dim / 2));
  for (int64_t i = 0; i < dim / 2; ++i)
    inv[i] = 1.0 / std::pow(theta, static_cast<double>(2 * i) / static_cast<double>(dim));
  return inv;
}

double yarn_mscale(double scale, double mscale) { return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }

}  // namespace

RopeFrequencies compute_rope_frequencies(const RopeParameters& rope, int64_t dim, int64_t max_position_embeddings,
                                         int64_t seq_len) {
  RopeFrequencies out;
  const int64_t original = rope.original_max_position_embeddings > 0 ? rope.original_max_position_embeddings
                                                                      : max_position_embeddings;
  switch (rope.type) {
    case RopeType::kDefault:
      out.inv_freq = base_inv_freq(rope.theta, dim);
      break;
    case RopeType::kLinear:
      out.inv_freq = base_inv_freq(rope.theta, dim);
      for (double& f : out.inv_freq) f /= rope.factor;
      break;
    case RopeType::kDynamic: {
      // NTK-aware: grow the base once the sequence outruns the trained context.
      const double len = static_cast<double>(std::max(seq_len, original));
      const double base = rope.theta * std::pow(rope.factor * len / static_cast<double>(original) - (rope.factor - 1.0),
                                                static_cast<double>(dim) / static_cast<double>(dim - 2));
      out.inv_freq = base_inv_freq(base, dim);
      break;
    }
    case RopeType::kLlama3: {
      out.inv_freq = base_inv_freq(rope.theta, dim);
      const double old_len = static_cast<double>(original);
      const double low_wavelen = old_len / rope.low_freq_factor;
      const double high_wavelen = old_len / rope.high_freq_factor;
      for (double& f : out.inv_freq) {
        const double wavelen = 2.0 * std::numbers::pi / f;
        if (wavelen > low_wavelen) {
          f /= rope.factor;  // long wavelengths: fully interpolated
        } else if (wavelen >= high_wavelen) {
          const double smooth = (old_len / wavelen - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
          f = (1.0 - smooth) * f / rope.factor + smooth * f;
        }  // short wavelengths: unchanged
      }
      break;
    }
    case RopeType::kYarn: {
      const double base = rope.theta;
      const double factor = rope.factor;
      const double d = static_cast<double>(dim);
      if (rope.attention_factor) {
        out.attention_factor = *rope.attention_factor;
      } else if (rope.mscale > 0.0 && rope.mscale_all_dim > 0.0) {
        out.attention_factor = yarn_mscale(factor, rope.mscale) / yarn_mscale(factor, rope.mscale_all_dim);
      } else {
        out.attention_factor = yarn_mscale(factor, 1.0);
      }
      auto correction_dim = [&](double rotations) {
        return d * std::log(static_cast<double>(original) / (rotations * 2.0 * std::numbers::pi)) / (2.0 * std::log(base));
      };
      double low = correction_dim(rope.beta_fast), high = correction_dim(rope.beta_slow);
      if (rope.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, d - 1.0);
      if (low == high) high += 0.001;  // avoid a zero-width ramp
      out.inv_freq = base_inv_freq(base, dim);
      for (int64_t i = 0; i < dim / 2; ++i) {
        const double ramp = std::clamp((static_cast<double>(i) - low) / (high - low), 0.0, 1.0);
        const double extrapolation_weight = 1.0 - ramp;
        const double extrapolated = out.inv_freq[i];
        const double interpolated = out.inv_freq[i] / factor;
        out.inv_freq[i] = interpolated * (1.0 - extrapolation_weight) + extrapolated * extrapolation_weight;
      }
      break;
    }
    case RopeType::kLongrope: {
      const double factor = static_cast<double>(max_position_embeddings) / static_cast<double>(original);
      if (rope.attention_factor) {
        out.attention_factor = *rope.attention_factor;
      } else {
        out.attention_factor =
            factor <= 1.0 ? 1.0 : std::sqrt(1.0 + std::log(factor) / std::log(static_cast<double>(original)));
      }
      const auto& ext = seq_len > original ? rope.long_factor : rope.short_factor;
      out.inv_freq = base_inv_freq(rope.theta, dim);
      for (int64_t i = 0; i < dim / 2; ++i)
        out.inv_freq[i] /= (static_cast<size_t>(i) < ext.size() ? ext[i] : 1.0);
      break;
    }
  }
  return out;
}

RotaryEmbedding::RotaryEmbedding(const RopeParameters& rope, int64_t rotary_dim, int64_t max_position_embeddings)
    : rope_(rope), rotary_dim_(rotary_dim), max_position_embeddings_(max_position_embeddings) {
  original_max_ = rope.original_max_position_embeddings > 0 ? rope.original_max_position_embeddings
                                                            : max_position_embeddings;
  short_ = compute_rope_frequencies(rope, rotary_dim, max_position_embeddings, 0);
  if (rope.type == RopeType::kLongrope)
    long_ = compute_rope_frequencies(rope, rotary_dim, max_position_embeddings, original_max_ + 1);
}

const RopeFrequencies& RotaryEmbedding::frequencies_for(int64_t seq_len, RopeFrequencies& scratch) const {
  if (rope_.type == RopeType::kLongrope && seq_len > original_max_) return long_;
  if (rope_.type == RopeType::kDynamic && seq_len > original_max_) {
    scratch = compute_rope_frequencies(rope_, rotary_dim_, max_position_embeddings_, seq_len);
    return scratch;
  }
  return short_;
}

void RotaryEmbedding::cos_sin(int64_t position, int64_t seq_len, float* cos, float* sin) const {
  RopeFrequencies scratch;
  const RopeFrequencies& f = frequencies_for(seq_len, scratch);
  const double pos = static_cast<double>(position);
  for (size_t i = 0; i < f.inv_freq.size(); ++i) {
    const double angle = pos * f.inv_freq[i];
    cos[i] = static_cast<float>(std::cos(angle) * f.attention_factor);
    sin[i] = static_cast<float>(std::sin(angle) * f.attention_factor);
  }
}

}  // namespace tgi::model
