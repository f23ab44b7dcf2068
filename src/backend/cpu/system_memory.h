#pragma once
// The host's memory as Linux reports it (/proc/meminfo): what the CPU backend's memory() answers,
// and so what the KV budget is sized from. MemAvailable, not MemFree: page cache the kernel can
// drop counts as available, and the weights' mapped file pages are exactly that.
#include <cstddef>

namespace tgi::backend::cpu {

struct SystemMemory {
  size_t total_bytes = 0;      // MemTotal; 0 if unknown
  size_t available_bytes = 0;  // MemAvailable; 0 if unknown
};

SystemMemory read_system_memory();

}  // namespace tgi::backend::cpu
