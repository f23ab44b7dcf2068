#include "kernels/cpu/gemm/cpu_isa.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace tgi::kernels {
namespace {

// TGI_CPU_ISA=avx2 caps the process at AVX2 as if the CPU had nothing wider (VNNI and BF16
// included), so an AVX-512 machine can run every test on the path an AVX2-only CPU takes.
bool capped_at_avx2() {
  const char* cap = std::getenv("TGI_CPU_ISA");
  return cap && std::strcmp(cap, "avx2") == 0;
}

CpuIsa detect() {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return avx512 && !capped_at_avx2() ? CpuIsa::kAvx512 : CpuIsa::kAvx2;
}

std::atomic<CpuIsa>& active() {
  static std::atomic<CpuIsa> isa{detected_cpu_isa()};
  return isa;
}

}  // namespace

CpuIsa detected_cpu_isa() {
  static const CpuIsa isa = detect();
  return isa;
}

CpuIsa active_cpu_isa() { return active().load(std::memory_order_relaxed); }

CpuIsa set_active_cpu_isa(CpuIsa isa) {
  if (isa == CpuIsa::kAvx512 && detected_cpu_isa() != CpuIsa::kAvx512) isa = CpuIsa::kAvx2;
  return active().exchange(isa, std::memory_order_relaxed);
}

bool cpu_has_avx512_bf16() {
  static const bool has = detected_cpu_isa() == CpuIsa::kAvx512 && __builtin_cpu_supports("avx512bf16");
  return has;
}

bool cpu_has_avx512_vnni() {
  static const bool has = detected_cpu_isa() == CpuIsa::kAvx512 && __builtin_cpu_supports("avx512vnni");
  return has;
}

const char* to_string(CpuIsa isa) { return isa == CpuIsa::kAvx512 ? "avx512" : "avx2"; }

}  // namespace tgi::kernels
