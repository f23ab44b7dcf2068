#include "backend/cpu/page_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

namespace tgi::backend::cpu {
namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

Result<PageBuffer> PageBuffer::allocate(size_t bytes) {
  PageBuffer buffer;
  if (bytes == 0) return buffer;
  // Over-map by one huge page so the data can start on a huge-page boundary.
  const size_t mapping_bytes = bytes + kHugePage;
  void* mapping = mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED)
    return Error::make(ErrorKind::kIo, "cannot map {} bytes of anonymous memory: {}", bytes,
                       std::strerror(errno));
  const auto address = reinterpret_cast<uintptr_t>(mapping);
  const auto aligned = (address + kHugePage - 1) / kHugePage * kHugePage;
  madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);  // a hint: without THP, 4 KiB pages
  buffer.mapping_ = mapping;
  buffer.mapping_bytes_ = mapping_bytes;
  buffer.data_ = reinterpret_cast<std::byte*>(aligned);
  buffer.size_ = bytes;
  return buffer;
}

PageBuffer::PageBuffer(PageBuffer&& other) noexcept {
  *this = std::move(other);
}

PageBuffer& PageBuffer::operator=(PageBuffer&& other) noexcept {
  if (this != &other) {
    release();
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_bytes_ = std::exchange(other.mapping_bytes_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

PageBuffer::~PageBuffer() {
  release();
}

void PageBuffer::release() {
  if (mapping_) munmap(mapping_, mapping_bytes_);
  mapping_ = nullptr;
}

}  // namespace tgi::backend::cpu
