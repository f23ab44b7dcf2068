#pragma once
// A Hugging Face safetensors checkpoint -> a GGUF v3 file llama.cpp (and our GGUF loader) can
// read: what `tgi convert --to gguf` does, as a library so tests prove the round trip in process.
// Tensors get llama.cpp's names, llama-family q/k rows its rope order, 2-D weights the requested
// encoding and 1-D tensors (norms, biases) stay F32. One tensor is in memory at a time.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "formats/gguf_writer.h"
#include "model/model_config.h"

namespace tgi::model {

// Adds metadata beyond the model's own (the CLI adds the tokenizer's tokenizer.ggml.* keys).
using GgufMetadataHook =
    std::function<Result<void>(formats::GgufWriter& writer, const ModelConfig& config, const std::string& architecture)>;

// How far the tensor data is: reported once before the first tensor (nothing written yet, the
// totals known), then after each. For a progress display; the exporter knows nothing of terminals.
struct GgufExportProgress {
  size_t tensors_written = 0;
  size_t tensors_total = 0;
  uint64_t bytes_written = 0;
  uint64_t bytes_total = 0;
};
using GgufExportProgressCallback = std::function<void(const GgufExportProgress&)>;

struct GgufExportSummary {
  std::string architecture;
  size_t num_tensors = 0;
  formats::GgmlType type = formats::GgmlType::kF32;
};

// `type`: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q6_k (case-insensitive).
Result<GgufExportSummary> export_gguf(const std::filesystem::path& model_dir, std::string_view type,
                                      const std::filesystem::path& output,
                                      const GgufMetadataHook& extra_metadata = {},
                                      const GgufExportProgressCallback& progress = {});

// general.*, <arch>.* hyper-parameters and rope settings for `config`.
Result<void> add_gguf_model_metadata(formats::GgufWriter& writer, const ModelConfig& config,
                                     const std::string& architecture, const std::string& model_name);

// llama3-style rope scaling as llama.cpp consumes it: one divisor per rotary frequency
// (the rope_freqs.weight tensor, rotary_dim/2 values).
std::vector<float> llama3_rope_frequency_divisors(const RopeParameters& rope, int64_t rotary_dim);

}  // namespace tgi::model
