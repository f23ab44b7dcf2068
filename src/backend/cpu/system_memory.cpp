#include "backend/cpu/system_memory.h"

#include <fstream>
#include <sstream>
#include <string>

namespace tgi::backend::cpu {

SystemMemory read_system_memory() {
  SystemMemory memory;
  std::ifstream meminfo("/proc/meminfo");
  // "Key:   value kB", one per line (some lines, e.g. HugePages_Total, carry no unit).
  for (std::string line; std::getline(meminfo, line);) {
    std::istringstream fields(line);
    std::string key;
    size_t value_kb = 0;
    if (!(fields >> key >> value_kb)) continue;
    if (key == "MemTotal:") memory.total_bytes = value_kb * 1024;
    if (key == "MemAvailable:") memory.available_bytes = value_kb * 1024;
  }
  return memory;
}

}  // namespace tgi::backend::cpu
