#pragma once
// Where a backend is chosen: the one place that names the implementations, so the model and the
// loader stay free of them. A CUDA backend is added here.
#include <memory>
#include <string>

#include "backend/backend.h"
#include "core/error.h"

namespace tgi::backend {

struct BackendOptions {
  std::string kind = "cpu";  // "cpu"
  int num_threads = 0;       // CPU worker threads, the caller included; 0: all cores
};

Result<std::unique_ptr<Backend>> make_backend(const BackendOptions& options);

}  // namespace tgi::backend
