#pragma once
// Anonymous memory straight from mmap for large buffers (weights built at load, the KV cache): aligned to 2
// MiB and marked for transparent huge pages (a decode step streams every byte of it, and 4 KiB pages would
// cost a TLB miss per page), and not zero-filled first: pages appear as they are written.
#include <cstddef>

#include "core/error.h"

namespace tgi::backend::cpu {

class PageBuffer {
 public:
  static Result<PageBuffer> allocate(size_t bytes);
  PageBuffer() = default;
  PageBuffer(PageBuffer&& other) noexcept;
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  ~PageBuffer();

  std::byte* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void release();
  void* mapping_ = nullptr;  // what mmap returned (the aligned data_ lies inside it)
  size_t mapping_bytes_ = 0;
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace tgi::backend::cpu
