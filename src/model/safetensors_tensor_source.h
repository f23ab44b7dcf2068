#pragma once
// A safetensors checkpoint (one directory, possibly sharded) as a TensorSource. Tensors keep
// their names and point into the mmap'd files.
#include <map>
#include <memory>

#include "formats/safetensors.h"
#include "model/tensor_source.h"

namespace tgi::model {

class SafetensorsTensorSource final : public TensorSource {
 public:
  // Owns the checkpoint (the model keeps the source alive as long as its weight views).
  explicit SafetensorsTensorSource(std::unique_ptr<formats::SafetensorsModel> model);
  // Borrows a checkpoint that outlives this object (e.g. `tgi inspect` checking shapes).
  explicit SafetensorsTensorSource(const formats::SafetensorsModel& model);

  Result<const SourceTensor*> require(std::string_view hf_name) const override;
  bool maps_file_at(const std::byte* data) const override;

 private:
  void index();

  std::unique_ptr<formats::SafetensorsModel> owned_;
  const formats::SafetensorsModel& model_;
  std::map<std::string, SourceTensor, std::less<>> tensors_;
};

}  // namespace tgi::model
