#pragma once
// Measures the machine's memory read bandwidth the way decode uses it: every pool thread streams
// its own slice of a buffer far larger than the caches. Used by `tgi bench --bandwidth` to report
// decode as a fraction of what the memory system delivers right now (it swings with host load).
#include "kernels/cpu/thread_pool.h"

namespace tgi::kernels {

struct BandwidthSample {
  double bytes_per_second = 0;  // best of the passes
  double buffer_bytes = 0;
};

// Reads a `buffer_mib` MiB buffer `passes` times with all threads of `pool`.
BandwidthSample measure_read_bandwidth(ThreadPool& pool, int buffer_mib = 512, int passes = 5);

}  // namespace tgi::kernels
