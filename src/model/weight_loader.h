#pragma once
// Maps a checkpoint's tensor names onto ModelWeights roles, checking every shape against the
// config. Each architecture's naming is a small table (naming_for in weight_loader.cpp), not code.
// Names are Hugging Face's whatever the file format: a TensorSource translates (GGUF does).
#include "core/error.h"
#include "formats/safetensors.h"
#include "model/model_config.h"
#include "model/tensor_source.h"
#include "model/weights.h"

namespace tgi::model {

// Matrices in ModelWeights point into `tensors` (or into buffers the weights own): the source
// must outlive them.
Result<ModelWeights> load_weights(const ModelConfig& config, const TensorSource& tensors);
// The same over a safetensors checkpoint the caller keeps open.
Result<ModelWeights> load_weights(const ModelConfig& config, const formats::SafetensorsModel& tensors);

}  // namespace tgi::model
