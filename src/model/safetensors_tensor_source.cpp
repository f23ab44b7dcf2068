#include "model/safetensors_tensor_source.h"

#include <algorithm>

namespace tgi::model {
namespace {

std::optional<kernels::WeightFormat> weight_format_for(formats::DType dtype) {
  switch (dtype) {
    case formats::DType::kF32: return kernels::WeightFormat::kF32;
    case formats::DType::kBF16: return kernels::WeightFormat::kBF16;
    case formats::DType::kF16: return kernels::WeightFormat::kF16;
    default: return std::nullopt;
  }
}

}  // namespace

SafetensorsTensorSource::SafetensorsTensorSource(std::unique_ptr<formats::SafetensorsModel> model)
    : owned_(std::move(model)), model_(*owned_) {
  index();
}

SafetensorsTensorSource::SafetensorsTensorSource(const formats::SafetensorsModel& model) : model_(model) { index(); }

void SafetensorsTensorSource::index() {
  for (const formats::TensorView* t : model_.all()) {
    tensors_.emplace(t->name, SourceTensor{t->name, weight_format_for(t->dtype), std::string(formats::dtype_name(t->dtype)),
                                           t->shape, t->data, t->nbytes});
  }
}

Result<const SourceTensor*> SafetensorsTensorSource::require(std::string_view hf_name) const {
  if (const auto it = tensors_.find(hf_name); it != tensors_.end()) return &it->second;
  TGI_TRY(model_.require(hf_name));  // the reader's own "not found" message
  return Error::make(ErrorKind::kInternal, "tensor \"{}\" is not indexed", hf_name);
}

bool SafetensorsTensorSource::maps_file_at(const std::byte* data) const {
  return std::any_of(tensors_.begin(), tensors_.end(),
                     [&](const auto& named) { return named.second.holds(data); });
}

}  // namespace tgi::model
