#include "cli/build_info.h"

#include <fmt/format.h>

namespace tgi::cli {

namespace {
std::string cpu_features() {
  std::string out;
#if defined(__x86_64__)
  __builtin_cpu_init();
  const std::pair<const char*, bool> features[] = {
      {"avx2", __builtin_cpu_supports("avx2")},       {"fma", __builtin_cpu_supports("fma")},
      {"avx512f", __builtin_cpu_supports("avx512f")}, {"avx512bw", __builtin_cpu_supports("avx512bw")},
      {"avx512vnni", __builtin_cpu_supports("avx512vnni")},
      {"avx512bf16", __builtin_cpu_supports("avx512bf16")},
  };
  for (const auto& [name, present] : features)
    if (present) {
      if (!out.empty()) out.push_back(' ');
      out.append(name);
    }
#endif
  return out.empty() ? "generic" : out;
}
}  // namespace

std::string build_info() {
  return fmt::format(
      "tgi {}\ncompiler: g++ {}.{}.{}\nbuild type: {}\ncompiled for: {}\ncpu: {}\ncuda: {}",
      TGI_VERSION, __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#ifdef NDEBUG
      "optimized",
#else
      "debug",
#endif
#if defined(__AVX512F__)
      "x86-64 avx512",
#elif defined(__AVX2__)
      "x86-64 avx2+fma+f16c",
#else
      "generic",
#endif
      cpu_features(),
#ifdef TGI_WITH_CUDA
      "yes"
#else
      "no"
#endif
  );
}

}  // namespace tgi::cli
