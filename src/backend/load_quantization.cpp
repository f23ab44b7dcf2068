#include "backend/load_quantization.h"

#include <string>

namespace tgi::backend {

using kernels::WeightFormat;

Result<WeightFormat> parse_load_quantization(std::string_view name) {
  if (name == "q8_0") return WeightFormat::kQ8_0;
  if (name == "q4_0") return WeightFormat::kQ4_0;
  if (name == "q4_k") return WeightFormat::kQ4_K;
  return Error::make(ErrorKind::kInvalidArgument,
                     "unknown load-time quantization '{}' (expected q8_0, q4_0 or q4_k)", std::string(name));
}

std::optional<WeightFormat> quantized_format_for(WeightFormat stored, int64_t cols, WeightFormat target) {
  if (kernels::is_block_format(stored) || cols <= 0) return std::nullopt;
  if (cols % kernels::weight_format_block_elements(target) == 0) return target;
  if (target == WeightFormat::kQ4_K && cols % kernels::weight_format_block_elements(WeightFormat::kQ4_0) == 0)
    return WeightFormat::kQ4_0;
  return std::nullopt;
}

}  // namespace tgi::backend
