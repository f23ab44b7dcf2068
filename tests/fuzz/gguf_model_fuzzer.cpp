// fuzz-sources: src/model/gguf_model_config.cpp src/model/model_config.cpp src/model/gguf_tensor_source.cpp
// fuzz-sources: src/model/weight_loader.cpp src/model/safetensors_tensor_source.cpp
// fuzz-sources: src/kernels/weight_view.cpp src/kernels/quant/dequantize.cpp src/kernels/quant/quantize.cpp
//
// libFuzzer harness: any bytes the GGUF reader accepts go on through what
// `--model-id x.gguf` does before the first forward — config from metadata, the tensor source (q/k rows
// moved), the weights by role — and give a model's weights or an Error; never a crash or UB.
#include <cstddef>
#include <cstdint>
#include <span>

#include "formats/gguf_file.h"
#include "model/gguf_model_config.h"
#include "model/gguf_tensor_source.h"
#include "model/weight_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = tgi::formats::GgufFile::parse(std::span(reinterpret_cast<const std::byte*>(data), size));
  if (!file.ok()) return 0;
  auto config = tgi::model::gguf_model_config(**file);
  if (!config.ok() && config.error().message.empty()) __builtin_trap();
  auto source = tgi::model::GgufTensorSource::open(std::move(*file));
  if (!source.ok()) {
    if (source.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (!config.ok()) return 0;
  auto weights = tgi::model::load_weights(*config, **source);
  if (!weights.ok() && weights.error().message.empty()) __builtin_trap();
  if (weights.ok() && weights->layers.size() != static_cast<size_t>(config->num_hidden_layers))
    __builtin_trap();
  return 0;
}
