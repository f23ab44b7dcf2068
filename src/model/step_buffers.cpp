#include "model/step_buffers.h"

#include <algorithm>

namespace tgi::model {

void StepBuffers::reserve(backend::Backend& backend, const ModelConfig& config, int64_t rows) {
  if (rows <= rows_) return;
  const int64_t H = config.hidden_size;
  const int64_t q_width = config.num_attention_heads * config.head_dim;
  const int64_t kv_width = config.num_key_value_heads * config.head_dim;
  const auto floats = [&](int64_t width) { return static_cast<size_t>(rows * width) * sizeof(float); };
  hidden_ = backend.allocate(floats(H));
  input_ = backend.allocate(floats(std::max(H, q_width)));
  branch_ = backend.allocate(floats(std::max(H, q_width)));
  q_ = backend.allocate(floats(q_width));
  k_ = backend.allocate(floats(kv_width));
  v_ = backend.allocate(floats(kv_width));
  attention_ = backend.allocate(floats(q_width));
  rows_ = rows;
}

}  // namespace tgi::model
