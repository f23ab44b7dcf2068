#pragma once
// Where a model's weights come from, by Hugging Face tensor name: a safetensors directory or a
// GGUF file. The loader (weight_loader.h) asks for names and shapes; a source answers with the
// stored bytes and their encoding, so both formats feed the same architecture tables.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "kernels/weight_view.h"

namespace tgi::model {

struct SourceTensor {
  std::string name;  // Hugging Face name
  // The encoding as the kernels know it; nullopt when the kernels cannot read what is stored
  // (`stored_type` then says what it is, for the error).
  std::optional<kernels::WeightFormat> format;
  std::string stored_type;
  std::vector<int64_t> shape;  // row-major, outermost first ([out, in] for a weight matrix)
  const std::byte* data = nullptr;  // valid while the source lives
  size_t nbytes = 0;

  bool holds(const std::byte* p) const {
    const auto at = reinterpret_cast<uintptr_t>(p), begin = reinterpret_cast<uintptr_t>(data);
    return at >= begin && at - begin < nbytes;
  }
};

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  // The tensor with this Hugging Face name; a missing one is an Error naming it.
  virtual Result<const SourceTensor*> require(std::string_view hf_name) const = 0;
  // Whether `data` lies in a tensor this source reads in place from a mapped file (not in a
  // buffer it built at open): such bytes are page cache, which weight_packing.h moves out of.
  virtual bool maps_file_at(const std::byte* data) const = 0;
};

}  // namespace tgi::model
