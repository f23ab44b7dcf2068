#pragma once
// Collectives between the ranks of a tensor-parallel model: each rank holds a slice of every
// projection (model/sharding.h), and the partial sums of the row-parallel ones (attention's output
// projection, the MLP's down projection) are added across ranks after each block. Every rank gets
// the same bits: sums run in rank order.
#include <barrier>
#include <cstdint>
#include <memory>
#include <vector>

#include "backend/backend.h"

namespace tgi::dist {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // data[i] = Σ over ranks of their data[i], for n floats in a buffer of `backend`.
  virtual void all_reduce_sum(backend::Backend& backend, float* data, int64_t n) = 0;
  // Each rank's `rows` × `cols` block side by side: rank r's lands in columns [r·cols, (r+1)·cols)
  // of `out` (rows × cols·world_size). Both in host memory (what Backend::logits writes).
  virtual void all_gather_columns(const float* local, int64_t rows, int64_t cols, float* out) = 0;
};

// World size 1: nothing to exchange.
class SingleRank final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_sum(backend::Backend&, float*, int64_t) override {}
  void all_gather_columns(const float* local, int64_t rows, int64_t cols, float* out) override;
};

// Ranks that are threads of one process, each with its own model and backend whose buffers are host
// memory (the CPU backend): a rank publishes its buffer, waits for the others, sums all of them in
// rank order into its own. Used to split one CPU's model over cores as independent ranks, and to
// check any sharding against the unsharded model in one test process.
class ThreadGroup {
 public:
  explicit ThreadGroup(int world_size);
  // The communicator of `rank`; every rank's must be used from its own thread.
  std::unique_ptr<Communicator> member(int rank);

 private:
  class Member;
  struct Shared {
    explicit Shared(int world_size)
        : buffers(static_cast<size_t>(world_size)),
          blocks(static_cast<size_t>(world_size)),
          sync(world_size) {}
    std::vector<float*> buffers;
    std::vector<const float*> blocks;
    std::barrier<> sync;
  };
  int world_size_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace tgi::dist
