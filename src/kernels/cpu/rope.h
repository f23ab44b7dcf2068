#pragma once
// Applies a rotary embedding to the heads of one token. The frequencies (and so every rope
// variant: linear, dynamic NTK, llama3, yarn, longrope) are decided by the caller, which passes
// cos/sin of position·inv_freq[i] for the rotary_dim/2 frequency pairs, already multiplied by any
// attention factor.
#include <cstdint>

namespace tgi::kernels {

// x: [num_heads][head_dim]. Rotates the first rotary_dim dims of each head; the rest pass
// through. interleaved: pairs are (2i, 2i+1) (GPT-J / cohere / llama4 style); otherwise
// (i, i + rotary_dim/2) (GPT-NeoX / llama style).
void apply_rope(float* x, int64_t num_heads, int64_t head_dim, int64_t rotary_dim, const float* cos,
                const float* sin, bool interleaved);

}  // namespace tgi::kernels
