// Sizes of the VNNI kernel's packed weight layout (qgemm_problem.h), compiled for the baseline
// ISA: the model asks for them on every machine.
#include "kernels/cpu/qgemm/qgemm_problem.h"

namespace tgi::kernels::qgemm {

int64_t packed_group_bytes(QuantFormat format, int64_t cols) {
  int64_t units = 0, unit_bytes = 0, chunk_units = 1;
  switch (format) {
    case QuantFormat::kQ8_0:
      units = cols / 32, unit_bytes = kQ8_0CodeImage + kQ8_0ScaleImage, chunk_units = kQ8_0ChunkUnits;
      break;
    case QuantFormat::kQ4_0:
      units = cols / 32, unit_bytes = kQ4_0CodeImage + kQ4_0ScaleImage, chunk_units = kQ4_0ChunkUnits;
      break;
    case QuantFormat::kQ4_K:
      units = cols / 256, unit_bytes = kQ4_KCodeImage + kQ4_KScaleImage, chunk_units = kQ4_KChunkUnits;
      break;
    case QuantFormat::kQ6_K:
      units = cols / 256, unit_bytes = kQ6_KCodeImage + kQ6_KScaleImage, chunk_units = kQ6_KChunkUnits;
      break;
  }
  const auto padded = [](int64_t bytes) { return (bytes + 63) / 64 * 64; };
  return units / chunk_units * padded(chunk_units * unit_bytes) + padded(units % chunk_units * unit_bytes);
}

}  // namespace tgi::kernels::qgemm
