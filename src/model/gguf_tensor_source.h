#pragma once
// A GGUF file as a TensorSource: llama.cpp tensor names are answered under their Hugging Face
// names, every encoding (F32 ... Q6_K) is used in place from the mmap, and the llama-family q/k
// matrices llama.cpp stores in its interleaved rope order are un-permuted once, at open, into
// buffers this source owns (whole rows move, so block formats need no decoding).
#include <map>
#include <memory>
#include <vector>

#include "formats/gguf_file.h"
#include "model/tensor_source.h"

namespace tgi::model {

class GgufTensorSource final : public TensorSource {
 public:
  static Result<std::unique_ptr<GgufTensorSource>> open(std::unique_ptr<formats::GgufFile> file);

  Result<const SourceTensor*> require(std::string_view hf_name) const override;
  bool maps_file_at(const std::byte* data) const override;
  const formats::GgufFile& file() const { return *file_; }

 private:
  explicit GgufTensorSource(std::unique_ptr<formats::GgufFile> file) : file_(std::move(file)) {}
  Result<void> index();

  std::unique_ptr<formats::GgufFile> file_;
  std::map<std::string, SourceTensor, std::less<>> tensors_;
  std::vector<std::vector<std::byte>> unpermuted_;  // q/k rows in Hugging Face order
};

}  // namespace tgi::model
