#pragma once
// Runs a test's body on each kernel ISA this CPU has (the AVX2 baseline always), restoring the
// active one afterwards.
#include <vector>

#include "kernels/cpu/gemm/cpu_isa.h"

namespace tgi::kernels {

class IsaGuard {
 public:
  explicit IsaGuard(CpuIsa isa) : previous_(set_active_cpu_isa(isa)) {}
  ~IsaGuard() { set_active_cpu_isa(previous_); }
  IsaGuard(const IsaGuard&) = delete;
  IsaGuard& operator=(const IsaGuard&) = delete;

 private:
  CpuIsa previous_;
};

inline std::vector<CpuIsa> available_isas() {
  std::vector<CpuIsa> isas{CpuIsa::kAvx2};
  if (detected_cpu_isa() == CpuIsa::kAvx512) isas.push_back(CpuIsa::kAvx512);
  return isas;
}

}  // namespace tgi::kernels
