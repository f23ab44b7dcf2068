#include "model/causal_lm.h"
#include "model/decoder_model.h"
#include "model/weight_loader.h"

namespace tgi::model {

Result<std::unique_ptr<CausalLm>> load_causal_lm(const std::filesystem::path& model_dir, const LoadOptions& options) {
  TGI_ASSIGN_OR_RETURN(ModelConfig config, load_model_config(model_dir));
  return load_causal_lm_with_config(std::move(config), model_dir, options);
}

Result<std::unique_ptr<CausalLm>> load_causal_lm_with_config(ModelConfig config, const std::filesystem::path& model_dir,
                                                             const LoadOptions& options) {
  if (!options.dtype.empty())
    return Error::make(ErrorKind::kUnsupported, "converting weights to dtype '{}' at load is not supported yet; weights keep their stored dtype",
                       options.dtype);
  if (config.head_dim > kernels::kMaxAttentionHeadDim)
    return Error::make(ErrorKind::kUnsupported, "head_dim {} exceeds the supported maximum {}", config.head_dim,
                       kernels::kMaxAttentionHeadDim);
  TGI_ASSIGN_OR_RETURN(auto tensors, formats::SafetensorsModel::open_dir(model_dir));
  auto weights = load_weights(config, *tensors);
  if (!weights.ok())
    return Error{weights.error().kind, fmt::format("{}: {}", model_dir.string(), weights.error().message)};
  return std::unique_ptr<CausalLm>(
      std::make_unique<DecoderModel>(std::move(config), std::move(tensors), std::move(*weights), options.num_threads));
}

}  // namespace tgi::model
