#pragma once
// Rotary embedding frequencies for every rope variant in one place (default, linear, dynamic
// NTK, llama3, yarn, longrope). The kernel (kernels/cpu/rope.h) only rotates; this decides by how
// much. Formulas follow the published definitions (and transformers' implementation of them).
#include <cstdint>
#include <vector>

#include "model/model_config.h"

namespace tgi::model {

// Inverse frequencies for a head of `rotary_dim` rotated dims (rotary_dim/2 values), for a
// sequence that will reach `seq_len` tokens (only dynamic NTK and longrope depend on it), and the
// factor cos/sin are scaled by (yarn, longrope; 1 otherwise).
struct RopeFrequencies {
  std::vector<double> inv_freq;
  double attention_factor = 1.0;
};
RopeFrequencies compute_rope_frequencies(const RopeParameters& rope, int64_t rotary_dim,
                                         int64_t max_position_embeddings, int64_t seq_len);

// A rope of one layer kind, precomputed where it does not depend on the sequence length.
class RotaryEmbedding {
 public:
  RotaryEmbedding() = default;
  RotaryEmbedding(const RopeParameters& rope, int64_t rotary_dim, int64_t max_position_embeddings);

  int64_t rotary_dim() const { return rotary_dim_; }
  // cos/sin (rotary_dim/2 floats each) of `position` in a sequence reaching `seq_len` tokens.
  // Allocation-free for every rope type except dynamic NTK beyond the trained length.
  void cos_sin(int64_t position, int64_t seq_len, float* cos, float* sin) const;

 private:
  const RopeFrequencies& frequencies_for(int64_t seq_len, RopeFrequencies& scratch) const;

  RopeParameters rope_;
  int64_t rotary_dim_ = 0;
  int64_t max_position_embeddings_ = 0;
  int64_t original_max_ = 0;  // length past which dynamic / longrope switch
  RopeFrequencies short_;     // the sequence-length independent table (or the short one)
  RopeFrequencies long_;      // longrope beyond original_max_
};

}  // namespace tgi::model
