#include "backend/make_backend.h"

#include "backend/cpu/cpu_backend.h"

namespace tgi::backend {

Result<std::unique_ptr<Backend>> make_backend(const BackendOptions& options) {
  if (options.kind == "cpu")
    return std::unique_ptr<Backend>(std::make_unique<cpu::CpuBackend>(options.num_threads));
  return Error::make(ErrorKind::kUnsupported, "unknown backend '{}' (this build has: cpu)", options.kind);
}

}  // namespace tgi::backend
