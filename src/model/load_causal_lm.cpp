#include <fstream>

#include "backend/make_backend.h"
#include "dist/communicator.h"
#include "formats/gguf_file.h"
#include "model/causal_lm.h"
#include "model/decoder_model.h"
#include "model/gguf_model_config.h"
#include "model/gguf_tensor_source.h"
#include "model/safetensors_tensor_source.h"
#include "model/sharding.h"
#include "model/weight_loader.h"
#include "model/weight_placement.h"

namespace tgi::model {
namespace {

Result<std::unique_ptr<TensorSource>> open_tensor_source(const std::filesystem::path& path) {
  if (is_gguf_file(path)) {
    TGI_ASSIGN_OR_RETURN(auto file, formats::GgufFile::open(path));
    TGI_ASSIGN_OR_RETURN(auto source, GgufTensorSource::open(std::move(file)));
    return std::unique_ptr<TensorSource>(std::move(source));
  }
  TGI_ASSIGN_OR_RETURN(auto tensors, formats::SafetensorsModel::open_dir(path));
  return std::unique_ptr<TensorSource>(std::make_unique<SafetensorsTensorSource>(std::move(tensors)));
}

// The backend the model will run on, and what it refuses before any weights are opened.
Result<std::unique_ptr<backend::Backend>> open_backend(const ModelConfig& config,
                                                       const LoadOptions& options) {
  if (!options.dtype.empty())
    return Error::make(
        ErrorKind::kUnsupported,
        "converting weights to dtype '{}' at load is not supported yet; weights keep their stored dtype",
        options.dtype);
  backend::BackendOptions backend_options;
  backend_options.num_threads = options.num_threads;
  TGI_ASSIGN_OR_RETURN(auto backend, backend::make_backend(backend_options));
  if (config.head_dim > backend->max_head_dim())
    return Error::make(ErrorKind::kUnsupported, "head_dim {} exceeds the supported maximum {}",
                       config.head_dim, backend->max_head_dim());
  return backend;
}

Result<std::unique_ptr<CausalLm>> build_model(ModelConfig config, std::unique_ptr<TensorSource> tensors,
                                              const std::filesystem::path& model_path,
                                              const LoadOptions& options,
                                              std::unique_ptr<backend::Backend> backend) {
  const ShardSpec shard{options.shard_rank, options.shard_world_size};
  if (shard.world_size > 1 && (!options.communicator || options.communicator->rank() != shard.rank ||
                               options.communicator->world_size() != shard.world_size))
    return Error::make(ErrorKind::kInvalidArgument,
                       "tensor parallelism: rank {} of {} needs a communicator of that rank", shard.rank,
                       shard.world_size);
  TGI_ASSIGN_OR_RETURN(ModelConfig local, shard_config(config, shard));
  auto weights = load_weights(config, *tensors);
  if (!weights.ok())
    return Error{weights.error().kind, fmt::format("{}: {}", model_path.string(), weights.error().message)};
  TGI_TRY(shard_weights(*weights, config, shard));
  backend::PlacementOptions placement;
  placement.quantize = options.quantize;
  placement.on_progress = options.on_progress;
  TGI_TRY(place_weights(*weights, tensors.get(), *backend, placement));
  return std::unique_ptr<CausalLm>(std::make_unique<DecoderModel>(
      std::move(local), std::move(tensors), std::move(*weights), std::move(backend), options.kv_cache_dtype,
      shard.world_size > 1 ? options.communicator : nullptr));
}

}  // namespace

bool is_gguf_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  if (path.extension() == ".gguf") return true;
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string_view(magic, 4) == "GGUF";
}

Result<std::unique_ptr<CausalLm>> load_causal_lm(const std::filesystem::path& model_path, const LoadOptions& options) {
  if (is_gguf_file(model_path)) {
    TGI_ASSIGN_OR_RETURN(auto file, formats::GgufFile::open(model_path));
    auto config = gguf_model_config(*file);
    if (!config.ok()) return Error{config.error().kind, fmt::format("{}: {}", model_path.string(), config.error().message)};
    TGI_ASSIGN_OR_RETURN(auto backend, open_backend(*config, options));
    auto source = GgufTensorSource::open(std::move(file));
    if (!source.ok()) return Error{source.error().kind, fmt::format("{}: {}", model_path.string(), source.error().message)};
    return build_model(std::move(*config), std::move(*source), model_path, options, std::move(backend));
  }
  TGI_ASSIGN_OR_RETURN(ModelConfig config, load_model_config(model_path));
  return load_causal_lm_with_config(std::move(config), model_path, options);
}

Result<std::unique_ptr<CausalLm>> load_causal_lm_with_config(ModelConfig config, const std::filesystem::path& model_path,
                                                             const LoadOptions& options) {
  TGI_ASSIGN_OR_RETURN(auto backend, open_backend(config, options));
  TGI_ASSIGN_OR_RETURN(auto tensors, open_tensor_source(model_path));
  return build_model(std::move(config), std::move(tensors), model_path, options, std::move(backend));
}

}  // namespace tgi::model
