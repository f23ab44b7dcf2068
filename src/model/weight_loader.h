#pragma once
// Maps a checkpoint's tensor names onto ModelWeights roles, checking every shape against the
// config. Each architecture's naming is a small table (tensor_naming.cpp), not code.
#include "core/error.h"
#include "formats/safetensors.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace tgi::model {

Result<ModelWeights> load_weights(const ModelConfig& config, const formats::SafetensorsModel& tensors);

}  // namespace tgi::model
