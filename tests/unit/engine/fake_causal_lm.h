#pragma once
// A deterministic stand-in for a real model, strict about KV bookkeeping: its "KV cache" stores
// the token id written at every slot, and each logits row is a function of the whole context as
// read back through the block table. A wrong block table, a block shared when it should not be,
// or a slot never written changes the output or fails the forward — so the engine's tokens match
// reference_next() only when the scheduler's KV handling is right.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "model/causal_lm.h"

namespace tgi::engine::testing {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline uint64_t context_hash(std::span<const int32_t> tokens) {
  uint64_t h = 0x1234;
  for (int32_t t : tokens) h = mix64(h ^ static_cast<uint32_t>(t + 1));
  return h;
}

// Copying mode (copy_period > 0): mostly repeats the token copy_period back, like text that
// quotes itself or a greedy cycle, but one context in five (by hash) breaks the pattern, so
// speculative proposals are sometimes right and sometimes wrong.
inline int32_t reference_next(std::span<const int32_t> context, int32_t vocab, int32_t copy_period = 0) {
  const uint64_t h = context_hash(context);
  const auto n = static_cast<int64_t>(context.size());
  if (copy_period > 0 && n >= copy_period && mix64(h) % 5 != 0)
    return context[static_cast<size_t>(n - copy_period)];
  return static_cast<int32_t>(h % vocab);
}

// Logits of the fake model after `context`; greedy picks the one at 8.0.
inline std::vector<float> fake_logits(std::span<const int32_t> context, int32_t vocab,
                                      int32_t copy_period = 0) {
  const uint64_t h = context_hash(context);
  std::vector<float> row(vocab);
  for (int32_t j = 0; j < vocab; ++j) row[j] = static_cast<float>(mix64(h + j) % 1000) / 250.0f;
  row[reference_next(context, vocab, copy_period)] = 8.0f;
  return row;
}

inline std::vector<int32_t> reference_greedy(std::vector<int32_t> tokens, int32_t n, int32_t vocab,
                                             int32_t copy_period = 0) {
  std::vector<int32_t> out;
  for (int32_t i = 0; i < n; ++i) {
    out.push_back(reference_next(tokens, vocab, copy_period));
    tokens.push_back(out.back());
  }
  return out;
}

class FakeKvCache : public model::KvCache {
 public:
  FakeKvCache(int32_t num_blocks, int32_t block_size)
      : num_blocks_(num_blocks), block_size_(block_size), slots(static_cast<size_t>(num_blocks) * block_size, -1) {}
  int32_t num_blocks() const override { return num_blocks_; }
  int32_t block_size() const override { return block_size_; }
  const backend::KvCacheShape& shape() const override { return shape_; }
  int32_t num_blocks_, block_size_;
  backend::KvCacheShape shape_;
  std::vector<int32_t> slots;
};

struct FakeModelStats {
  int64_t forwards = 0;
  int64_t tokens = 0;
  int32_t max_tokens_in_step = 0;
  int32_t max_sequences_in_step = 0;
};

class FakeCausalLm : public model::CausalLm {
 public:
  explicit FakeCausalLm(int32_t vocab, std::shared_ptr<FakeModelStats> stats = nullptr,
                        int32_t copy_period = 0)
      : vocab_(vocab),
        copy_period_(copy_period),
        stats_(stats ? std::move(stats) : std::make_shared<FakeModelStats>()) {
    config_.vocab_size = vocab;
  }
  const model::ModelConfig& config() const override { return config_; }
  int32_t vocab_size() const override { return vocab_; }
  size_t kv_bytes_per_token() const override { return 8; }
  std::unique_ptr<model::KvCache> allocate_kv_cache(int32_t num_blocks, int32_t block_size) const override {
    return std::make_unique<FakeKvCache>(num_blocks, block_size);
  }
  Result<void> forward(const model::Batch& batch, model::KvCache& cache, std::span<float> logits) override {
    while (hold_forwards.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (fail_next_forward.exchange(false)) {
      return Error::make(ErrorKind::kGeneration, "injected failure");
    }
    auto& kv = static_cast<FakeKvCache&>(cache);
    const int32_t bs = kv.block_size();
    ++stats_->forwards;
    stats_->tokens += batch.num_tokens();
    stats_->max_tokens_in_step = std::max(stats_->max_tokens_in_step, batch.num_tokens());
    stats_->max_sequences_in_step = std::max(stats_->max_sequences_in_step, static_cast<int32_t>(batch.sequences.size()));
    if (static_cast<int64_t>(logits.size()) != static_cast<int64_t>(batch.num_logit_rows()) * vocab_)
      return Error::make(ErrorKind::kInternal, "logits buffer has the wrong size");
    size_t out_row = 0;
    for (const auto& seq : batch.sequences) {
      auto slot = [&](int32_t pos) -> int32_t* {
        const int32_t b = pos / bs;
        if (b >= static_cast<int32_t>(seq.block_table.size())) return nullptr;
        return &kv.slots[static_cast<size_t>(seq.block_table[b]) * bs + pos % bs];
      };
      for (int32_t r = 0; r < seq.query_len; ++r) {
        const int32_t pos = seq.context_len + r;
        if (batch.positions[seq.query_start + r] != pos) return Error::make(ErrorKind::kInternal, "bad position");
        int32_t* s = slot(pos);
        if (!s) return Error::make(ErrorKind::kInternal, "block table too short");
        *s = batch.token_ids[seq.query_start + r];
      }
      const int32_t first = seq.logits == model::LogitsWanted::kAll ? 0 : seq.query_len - 1;
      const int32_t rows = seq.logits == model::LogitsWanted::kNone ? 0 : seq.query_len - first;
      for (int32_t r = first; r < first + rows; ++r) {
        std::vector<int32_t> context;
        for (int32_t p = 0; p <= seq.context_len + r; ++p) {
          int32_t* s = slot(p);
          if (!s || *s < 0) return Error::make(ErrorKind::kInternal, "reading an unwritten KV slot");
          context.push_back(*s);
        }
        auto row = fake_logits(context, vocab_, copy_period_);
        std::copy(row.begin(), row.end(), logits.begin() + out_row * vocab_);
        ++out_row;
      }
    }
    return {};
  }

  std::atomic<bool> fail_next_forward{false};
  // While set, forward() waits: a test keeps its requests in flight for as long as it needs,
  // whatever the scheduler does with its threads meanwhile.
  std::atomic<bool> hold_forwards{false};

 private:
  int32_t vocab_;
  int32_t copy_period_;
  std::shared_ptr<FakeModelStats> stats_;
  model::ModelConfig config_;
};

}  // namespace tgi::engine::testing
