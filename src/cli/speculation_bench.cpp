#include "cli/speculation_bench.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>

#include "engine/engine.h"

namespace tgi::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Measured {
  std::vector<std::vector<int32_t>> tokens;
  double decode_tokens_per_second = 0;
  engine::EngineStats stats;
};

// Runs `prompts` together, greedy, to exactly `new_tokens` each. Decode speed counts the tokens
// generated once every request has its first token, over the time from then to the last end, so
// prefill is left out.
Result<Measured> generate(std::unique_ptr<model::CausalLm> lm,
                          const std::vector<std::vector<int32_t>>& prompts, int new_tokens, int speculate,
                          std::unique_ptr<model::CausalLm> draft = nullptr) {
  engine::EngineConfig config;
  int64_t tokens = 0;
  for (const auto& p : prompts) tokens += static_cast<int64_t>(p.size()) + new_tokens + 16;
  config.max_batch_total_tokens = static_cast<int32_t>(tokens + 64);
  config.max_batch_prefill_tokens = 4096;
  config.speculation.max_tokens = speculate;
  config.prefix_caching = false;
  TGI_ASSIGN_OR_RETURN(auto engine, engine::Engine::create(std::move(lm), nullptr, config, std::move(draft)));

  struct Shared {
    std::mutex mutex;
    std::condition_variable done_cv;
    size_t ended = 0;
    std::vector<std::vector<int32_t>> tokens;
    std::vector<std::vector<Clock::time_point>> times;
    std::string error;
  } shared;
  shared.tokens.resize(prompts.size());
  shared.times.resize(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    engine::GenerationRequest request;
    request.input_ids = prompts[i];
    request.stopping.max_new_tokens = new_tokens;
    request.stopping.ignore_eos = true;
    auto submitted = engine->submit(std::move(request), [&shared, i](engine::TokenEvent&& event) {
      std::lock_guard lock(shared.mutex);
      if (event.kind == engine::TokenEvent::Kind::kToken) {
        shared.tokens[i].push_back(event.token.id);
        shared.times[i].push_back(Clock::now());
      } else if (event.kind == engine::TokenEvent::Kind::kEnd ||
                 event.kind == engine::TokenEvent::Kind::kError) {
        if (event.error) shared.error = event.error->message;
        ++shared.ended;
        shared.done_cv.notify_all();
      }
    });
    if (!submitted.ok()) return submitted.error();
  }
  std::unique_lock lock(shared.mutex);
  shared.done_cv.wait(lock, [&] { return shared.ended == prompts.size(); });
  if (!shared.error.empty())
    return Error::make(ErrorKind::kGeneration, "generation failed: {}", shared.error);
  Clock::time_point all_started = Clock::time_point::min(), all_ended = Clock::time_point::min();
  for (const auto& t : shared.times) {
    if (t.empty()) return Error::make(ErrorKind::kGeneration, "a request generated nothing");
    all_started = std::max(all_started, t.front());
    all_ended = std::max(all_ended, t.back());
  }
  int64_t decoded = 0;
  for (const auto& t : shared.times)
    decoded += std::count_if(t.begin(), t.end(), [&](Clock::time_point p) { return p > all_started; });
  Measured out;
  out.tokens = std::move(shared.tokens);
  const double seconds = std::chrono::duration<double>(all_ended - all_started).count();
  out.decode_tokens_per_second = seconds > 0 ? static_cast<double>(decoded) / seconds : 0;
  lock.unlock();
  out.stats = engine->stats();
  return out;
}

}  // namespace

Result<std::vector<SpeculationBenchCell>> run_speculation_bench(const ModelLoader& load,
                                                                const SpeculationBenchOptions& options,
                                                                const ModelLoader& load_draft) {
  int32_t vocab_size = 0;
  {
    TGI_ASSIGN_OR_RETURN(auto probe, load());
    vocab_size = probe->vocab_size();
  }
  // Ordinary ids: past the first hundred, where tokenizers keep their special tokens.
  std::uniform_int_distribution<int32_t> token(std::min(100, vocab_size - 1), vocab_size - 1);
  std::vector<SpeculationBenchCell> cells;
  for (const char* workload : {"copy", "random"}) {
    for (int batch : options.batch_sizes) {
      std::mt19937 rng(options.seed);
      std::vector<std::vector<int32_t>> prompts;
      for (int b = 0; b < batch; ++b) {
        std::vector<int32_t> prompt;
        if (std::string(workload) == "copy") {
          std::vector<int32_t> passage(static_cast<size_t>(options.passage_tokens));
          for (auto& t : passage) t = token(rng);
          for (int r = 0; r < options.passage_repeats; ++r)
            prompt.insert(prompt.end(), passage.begin(), passage.end());
        } else {
          prompt.resize(static_cast<size_t>(options.random_prompt_tokens));
          for (auto& t : prompt) t = token(rng);
        }
        prompts.push_back(std::move(prompt));
      }
      TGI_ASSIGN_OR_RETURN(auto plain_model, load());
      TGI_ASSIGN_OR_RETURN(Measured plain, generate(std::move(plain_model), prompts, options.new_tokens, 0));
      TGI_ASSIGN_OR_RETURN(auto spec_model, load());
      std::unique_ptr<model::CausalLm> draft;
      if (load_draft) {
        TGI_ASSIGN_OR_RETURN(draft, load_draft());
      }
      TGI_ASSIGN_OR_RETURN(Measured spec, generate(std::move(spec_model), prompts, options.new_tokens,
                                                   options.speculate, std::move(draft)));
      SpeculationBenchCell cell;
      cell.workload = workload;
      cell.batch_size = batch;
      cell.plain_tokens_per_second = plain.decode_tokens_per_second;
      cell.speculative_tokens_per_second = spec.decode_tokens_per_second;
      const auto& s = spec.stats;
      cell.acceptance =
          s.speculative_proposed_tokens > 0
              ? static_cast<double>(s.speculative_accepted_tokens) / s.speculative_proposed_tokens
              : 0;
      cell.tokens_per_step =
          s.speculative_steps > 0
              ? 1.0 + static_cast<double>(s.speculative_accepted_tokens) / s.speculative_steps
              : 0;
      cell.identical = plain.tokens == spec.tokens;
      cells.push_back(cell);
    }
  }
  return cells;
}

}  // namespace tgi::cli
