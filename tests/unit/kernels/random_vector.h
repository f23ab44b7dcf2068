#pragma once
// Uniform random floats in [-scale, scale] for the kernel tests.
#include <random>
#include <vector>

namespace tgi::kernels {

inline std::vector<float> random_vector(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace tgi::kernels
