// fuzz-sources: src/model/model_config.cpp
// libFuzzer harness: any bytes offered as config.json / generation_config.json give a
// ModelConfig/GenerationConfig or an Error; never an exception, crash or UB.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/model_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  auto config = tgi::model::parse_model_config(json);
  if (config.ok()) {
    const auto& c = *config;
    // Whatever parse accepted must be usable: per-layer tables cover every layer.
    if (c.num_hidden_layers < 0) __builtin_trap();
    if (static_cast<int64_t>(c.layer_types.size()) != c.num_hidden_layers) __builtin_trap();
    for (int64_t layer = 0; layer < c.num_hidden_layers; ++layer) (void)c.rope_for_layer(layer);
    (void)c.attention_scale();
    (void)c.rotary_dim();
  } else if (config.error().message.empty()) {
    __builtin_trap();
  }
  auto generation = tgi::model::parse_generation_config(json);
  if (!generation.ok() && generation.error().message.empty()) __builtin_trap();
  return 0;
}
