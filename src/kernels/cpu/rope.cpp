#include "kernels/cpu/rope.h"

namespace tgi::kernels {

void apply_rope(float* x, int64_t num_heads, int64_t head_dim, int64_t rotary_dim, const float* cos,
                const float* sin, bool interleaved) {
  const int64_t half = rotary_dim / 2;
  for (int64_t h = 0; h < num_heads; ++h) {
    float* head = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      float* a = interleaved ? &head[2 * i] : &head[i];
      float* b = interleaved ? &head[2 * i + 1] : &head[i + half];
      const float x1 = *a, x2 = *b;
      *a = x1 * cos[i] - x2 * sin[i];
      *b = x2 * cos[i] + x1 * sin[i];
    }
  }
}

}  // namespace tgi::kernels
