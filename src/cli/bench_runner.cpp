#include "cli/bench_runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "core/progress.h"

namespace tgi::cli {
namespace {

constexpr int32_t kBlockSize = 16;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int32_t blocks_for(int64_t tokens) { return static_cast<int32_t>((tokens + kBlockSize - 1) / kBlockSize); }

// Sequences with disjoint block tables over one cache.
struct Sequences {
  std::vector<std::vector<int32_t>> tables;
  explicit Sequences(int count, int64_t max_tokens) {
    const int32_t per = blocks_for(max_tokens);
    for (int i = 0; i < count; ++i) {
      std::vector<int32_t> t(static_cast<size_t>(per));
      for (int32_t b = 0; b < per; ++b) t[b] = i * per + b;
      tables.push_back(std::move(t));
    }
  }
};

Result<double> timed_forward(model::CausalLm& lm, model::KvCache& cache, const std::vector<int32_t>& ids,
                             const std::vector<int32_t>& positions, const std::vector<model::SequenceInBatch>& seqs,
                             std::vector<float>& logits) {
  model::Batch batch{ids, positions, seqs};
  logits.resize(static_cast<size_t>(batch.num_logit_rows()) * lm.vocab_size());
  const auto start = std::chrono::steady_clock::now();
  TGI_TRY(lm.forward(batch, cache, logits));
  return seconds_since(start);
}

Result<PrefillCell> prefill_cell(model::CausalLm& lm, const BenchGrid& grid, int length, std::mt19937& rng,
                                 Progress& progress) {
  progress.set_detail(fmt::format("prefill {}", length));
  std::uniform_int_distribution<int32_t> token(0, lm.vocab_size() - 1);
  const Sequences seq(1, length);
  auto cache = lm.allocate_kv_cache(blocks_for(length), kBlockSize);
  std::vector<int32_t> ids(static_cast<size_t>(length)), positions(static_cast<size_t>(length));
  for (int i = 0; i < length; ++i) {
    ids[i] = token(rng);
    positions[i] = i;
  }
  std::vector<model::SequenceInBatch> seqs{{0, length, 0, seq.tables[0], model::LogitsWanted::kLast}};
  std::vector<float> logits;
  PrefillCell cell;
  cell.prompt_length = length;
  for (int r = 0; r < grid.warmups + grid.runs; ++r) {
    TGI_ASSIGN_OR_RETURN(double s, timed_forward(lm, *cache, ids, positions, seqs, logits));
    if (r >= grid.warmups) cell.seconds.push_back(s);
    progress.advance(1);
  }
  cell.tokens_per_second = length / percentile(cell.seconds, 0.5);
  return cell;
}

// `rows` query rows per sequence and step: 1 is a decode step, more a speculative verification
// (logits at every row).
Result<DecodeCell> decode_cell(model::CausalLm& lm, const BenchGrid& grid, int batch, int context, int rows,
                               std::mt19937& rng, Progress& progress) {
  progress.set_detail(rows > 1 ? fmt::format("verify {} rows, batch {} context {}", rows, batch, context)
                               : fmt::format("decode batch {} context {}", batch, context));
  std::uniform_int_distribution<int32_t> token(0, lm.vocab_size() - 1);
  const int total_steps = grid.warmups + grid.decode_steps;
  const int64_t max_tokens = int64_t{context} + int64_t{total_steps} * rows;
  const Sequences seq(batch, max_tokens);
  auto cache = lm.allocate_kv_cache(batch * blocks_for(max_tokens), kBlockSize);
  std::vector<float> logits;
  // Fill each sequence's context with a prefill (untimed), one sequence per forward.
  for (int b = 0; b < batch && context > 0; ++b) {
    std::vector<int32_t> ids(static_cast<size_t>(context)), positions(static_cast<size_t>(context));
    for (int i = 0; i < context; ++i) {
      ids[i] = token(rng);
      positions[i] = i;
    }
    std::vector<model::SequenceInBatch> seqs{{0, context, 0, seq.tables[b], model::LogitsWanted::kLast}};
    TGI_TRY(timed_forward(lm, *cache, ids, positions, seqs, logits));
    progress.advance(1);
  }
  DecodeCell cell;
  cell.batch_size = batch;
  cell.context_length = context;
  cell.rows_per_sequence = rows;
  std::vector<int32_t> ids(static_cast<size_t>(batch) * rows), positions(static_cast<size_t>(batch) * rows);
  std::vector<model::SequenceInBatch> seqs(static_cast<size_t>(batch));
  double kv_tokens = 0;
  for (int step = 0; step < total_steps; ++step) {
    const int done = context + step * rows;
    for (int b = 0; b < batch; ++b) {
      for (int r = 0; r < rows; ++r) {
        ids[b * rows + r] = token(rng);
        positions[b * rows + r] = done + r;
      }
      seqs[b] = {b * rows, rows, done, seq.tables[b],
                 rows > 1 ? model::LogitsWanted::kAll : model::LogitsWanted::kLast};
    }
    TGI_ASSIGN_OR_RETURN(double s, timed_forward(lm, *cache, ids, positions, seqs, logits));
    if (step >= grid.warmups) {
      cell.step_seconds.push_back(s);
      kv_tokens += static_cast<double>(batch) * (done + rows);
    }
    progress.advance(1);
  }
  double total = 0;
  for (double s : cell.step_seconds) total += s;
  cell.tokens_per_second = total > 0 ? batch * static_cast<double>(cell.step_seconds.size()) / total : 0;
  cell.p50_ms = 1e3 * percentile(cell.step_seconds, 0.50);
  cell.p90_ms = 1e3 * percentile(cell.step_seconds, 0.90);
  cell.p99_ms = 1e3 * percentile(cell.step_seconds, 0.99);
  if (!cell.step_seconds.empty())
    cell.kv_bytes_read_per_step =
        kv_tokens / static_cast<double>(cell.step_seconds.size()) * static_cast<double>(lm.kv_bytes_per_token());
  return cell;
}

}  // namespace

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

Result<BenchResults> run_bench(model::CausalLm& lm, const BenchGrid& grid) {
  // Every forward pass the grid will run, context fills included.
  uint64_t passes = 0;
  for (int length : grid.prompt_lengths)
    if (length > 0) passes += static_cast<uint64_t>(std::max(0, grid.warmups + grid.runs));
  for (int context : grid.context_lengths)
    for (int batch : grid.batch_sizes)
      if (batch > 0 && grid.decode_steps > 0)
        passes += static_cast<uint64_t>(
            ((context > 0 ? batch : 0) + std::max(0, grid.warmups + grid.decode_steps)) *
            (grid.verify_tokens > 0 ? 2 : 1));
  ProgressOptions progress_options;
  progress_options.unit = ProgressUnit::count("passes");
  if (!grid.show_progress) progress_options.style = ProgressStyle::kOff;
  Progress progress("Benchmarking", passes, std::move(progress_options));

  std::mt19937 rng(grid.seed);
  BenchResults results;
  for (int length : grid.prompt_lengths) {
    if (length <= 0) continue;
    TGI_ASSIGN_OR_RETURN(auto cell, prefill_cell(lm, grid, length, rng, progress));
    results.prefill.push_back(std::move(cell));
  }
  for (int context : grid.context_lengths) {
    for (int batch : grid.batch_sizes) {
      if (batch <= 0 || grid.decode_steps <= 0) continue;
      TGI_ASSIGN_OR_RETURN(auto cell, decode_cell(lm, grid, batch, context, 1, rng, progress));
      results.decode.push_back(std::move(cell));
      if (grid.verify_tokens > 0) {
        TGI_ASSIGN_OR_RETURN(auto verify,
                             decode_cell(lm, grid, batch, context, grid.verify_tokens + 1, rng, progress));
        results.verify.push_back(std::move(verify));
      }
    }
  }
  progress.finish();
  return results;
}

}  // namespace tgi::cli
