#pragma once
// The model's front door for the engine: a causal LM that runs one forward over a ragged batch
// against a paged KV cache. The engine decides which block ids a sequence uses; the model owns
// what a block holds (per layer K/V, or an MLA latent) and how it is laid out.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/kv_cache.h"
#include "core/error.h"
#include "kernels/kv_dtype.h"
#include "kernels/weight_view.h"
#include "model/batch.h"
#include "model/model_config.h"

namespace tgi::dist {
class Communicator;
}

namespace tgi::model {

// Storage for all layers' KV blocks of one model, allocated by its backend. Opaque to the engine.
using backend::KvCache;

// What the loaded weights amount to, for the start-up summary: parameters, bytes as the kernels
// read them, and the encodings by share of those bytes (largest first: "q8_0", "f32").
struct WeightsFootprint {
  int64_t parameters = 0;
  int64_t bytes = 0;
  std::vector<std::string> formats;
};

class CausalLm {
 public:
  virtual ~CausalLm() = default;
  virtual const ModelConfig& config() const = 0;
  virtual int32_t vocab_size() const = 0;
  // Bytes of KV cache one token costs across all layers (used to size the KV budget).
  virtual size_t kv_bytes_per_token() const = 0;
  virtual WeightsFootprint weights_footprint() const { return {}; }
  // The memory the model's backend allocates from (what the KV budget is sized against); zeros
  // when unknown.
  virtual backend::MemoryInfo memory() const { return {}; }
  virtual std::unique_ptr<KvCache> allocate_kv_cache(int32_t num_blocks, int32_t block_size) const = 0;
  // Writes batch.num_logit_rows() rows of vocab_size() float logits into `logits`, in sequence
  // order. Appends the batch's K/V to `cache` at the positions given by each block table.
  virtual Result<void> forward(const Batch& batch, KvCache& cache, std::span<float> logits) = 0;
};

struct LoadOptions {
  int num_threads = 0;  // 0: all cores
  std::string dtype;    // "" keeps the stored dtype; else "float32", "bfloat16", "float16"
  // Re-encode float projection matrices at load (Q8_0, Q4_0 or Q4_K; see backend/load_quantization.h).
  // nullopt keeps every weight as stored. Block-format (GGUF) weights are never re-encoded.
  std::optional<kernels::WeightFormat> quantize;
  // How the KV cache stores K and V (kernels/kv_dtype.h).
  kernels::KvDtype kv_cache_dtype = kernels::KvDtype::kF32;
  // Told how many bytes of weights have been placed, of how many, as the load goes (from the
  // loading thread). Empty: silent. The caller decides how to show it (core/progress.h).
  std::function<void(int64_t bytes_done, int64_t bytes_total)> on_progress;
  // Tensor parallelism: load rank `shard_rank`'s slice of a model split over `shard_world_size`
  // ranks (model/sharding.h); `communicator` (of that rank and world size) adds the row-parallel
  // partial sums across ranks. World size 1: the whole model, no communicator needed.
  int shard_rank = 0;
  int shard_world_size = 1;
  std::shared_ptr<dist::Communicator> communicator;
};

// Loads config.json + safetensors weights from a model directory, or a GGUF file (config from its
// metadata, weights used in place whatever their encoding).
Result<std::unique_ptr<CausalLm>> load_causal_lm(const std::filesystem::path& model_path,
                                                 const LoadOptions& options = {});
// Same, with a config parsed elsewhere (e.g. config.v4.json); `model_path` as above.
Result<std::unique_ptr<CausalLm>> load_causal_lm_with_config(ModelConfig config,
                                                             const std::filesystem::path& model_path,
                                                             const LoadOptions& options = {});
// A regular file named *.gguf or starting with the GGUF magic (what load_causal_lm reads as GGUF).
bool is_gguf_file(const std::filesystem::path& path);

}  // namespace tgi::model
