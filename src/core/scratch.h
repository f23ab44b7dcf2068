#pragma once
// Scratch that grows to the largest batch seen and is then reused: a step allocates only the first
// time it is that large.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tgi {

template <typename T>
T* grow(std::vector<T>& v, int64_t n) {
  if (v.size() < static_cast<size_t>(n)) v.resize(static_cast<size_t>(n));
  return v.data();
}

}  // namespace tgi
