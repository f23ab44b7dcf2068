#pragma once
// What a layer block needs for one step besides its own weights: the backend it calls, the cache
// it appends to, and the step's activation buffers (backend memory; see model/step_buffers.h).
#include <cstdint>

#include "backend/backend.h"
#include "model/step_buffers.h"

namespace tgi::model {

struct StepContext {
  backend::Backend& backend;
  backend::KvCache& cache;
  StepBuffers& buffers;
  int64_t rows = 0;
};

}  // namespace tgi::model
