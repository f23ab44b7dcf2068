#pragma once
// The activations of one forward step, in backend memory: the residual stream, a block's
// (normalized) input, a block's output, and attention's q, k, v and result. Grown to the largest
// batch seen and then reused, so a step allocates only the first time it is that large.
#include <cstdint>
#include <memory>

#include "backend/backend.h"
#include "model/model_config.h"

namespace tgi::model {

class StepBuffers {
 public:
  // Room for `rows` rows of `config`'s widths (no-op when there already is).
  void reserve(backend::Backend& backend, const ModelConfig& config, int64_t rows);

  float* hidden() const { return hidden_->floats(); }  // [rows][hidden]: the residual stream
  float* input() const { return input_->floats(); }    // [rows][max(hidden, q width)]
  float* branch() const { return branch_->floats(); }  // [rows][max(hidden, q width)]
  float* q() const { return q_->floats(); }            // [rows][heads * head_dim]
  float* k() const { return k_->floats(); }            // [rows][kv_heads * head_dim]
  float* v() const { return v_->floats(); }
  float* attention() const { return attention_->floats(); }  // [rows][heads * head_dim]

 private:
  int64_t rows_ = 0;
  std::unique_ptr<backend::Buffer> hidden_, input_, branch_, q_, k_, v_, attention_;
};

}  // namespace tgi::model
