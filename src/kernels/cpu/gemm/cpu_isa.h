#pragma once
// Which SIMD kernels this process runs, chosen once from the CPU it finds itself on.
#include <cstdint>

namespace tgi::kernels {

enum class CpuIsa : uint8_t { kAvx2, kAvx512 };

// AVX-512 (F+BW+VL+DQ) when the CPU and OS support it, else AVX2 (the build's baseline). The
// environment variable TGI_CPU_ISA=avx2 caps it at AVX2 (and turns off VNNI and BF16 with it).
CpuIsa detected_cpu_isa();
// The ISA matmul uses now: detected_cpu_isa() unless overridden (tests and benchmarks compare paths).
CpuIsa active_cpu_isa();
// Forces an ISA (clamped to what the CPU supports); returns the previous active ISA.
CpuIsa set_active_cpu_isa(CpuIsa isa);
const char* to_string(CpuIsa isa);
// AVX-512-BF16 (vdpbf16ps), used for bf16 weights under MatmulPrecision::kBf16Activations.
bool cpu_has_avx512_bf16();
// AVX-512-VNNI (vpdpbusd), used by the int8 kernels for block-quantized weights.
bool cpu_has_avx512_vnni();

}  // namespace tgi::kernels
