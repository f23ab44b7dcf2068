#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <limits>
#include <list>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "engine/background_task.h"
#include "engine/block_pool.h"
#include "engine/kv_budget.h"
#include "engine/logits_processors.h"
#include "engine/ngram_proposer.h"
#include "engine/scheduler.h"
#include "engine/sequence.h"
#include "engine/stop_sequence_matcher.h"
#include "engine/token_sampler.h"
#include "grammar/grammar_matcher.h"
#include "grammar/token_trie.h"
#include "model/causal_lm.h"
#include "tokenizer/incremental_decoder.h"
#include "tokenizer/token_bytes.h"
#include "tokenizer/tokenizer.h"

namespace tgi::engine {
namespace {

using Clock = std::chrono::steady_clock;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

struct RequestState;

// A sequence plus everything needed to turn its logits into tokens and text.
struct SequenceState : Sequence {
  RequestState* request = nullptr;
  int32_t candidate = 0;
  TokenSampler sampler;
  std::optional<tokenizer::IncrementalDecoder> stream_decoder;  // skip_special: streamed text
  std::optional<tokenizer::IncrementalDecoder> token_decoder;   // per-token text for details
  StopSequenceMatcher stop_matcher;
  std::optional<grammar::GrammarMatcher> grammar_matcher;  // set when the request has a grammar
  // The mask for the matcher at early_mask_position, computed while the forward ran; used once.
  grammar::TokenBitmask early_mask;
  std::optional<size_t> early_mask_position;
  bool wants_prompt_logprobs = false;
  std::vector<float> prompt_logprobs;  // [prompt_len], filled while prefilling with kAll
  int32_t generated = 0;
  double logprob_sum = 0;
  bool finished = false;
  AcceptanceEstimate acceptance;
  int32_t accepted_proposals = 0;
  // Draft model: leading tokens whose K/V are in the draft's cache, valid while the sequence
  // has not been preempted since (Sequence::preemptions was draft_preemptions).
  int32_t draft_computed = 0;
  int32_t draft_preemptions = 0;

  SequenceState(TokenSampler s, std::vector<std::string> stops)
      : sampler(std::move(s)), stop_matcher(std::move(stops)) {}
};

struct RequestState {
  GenerationRequest request;
  EventSink sink;
  std::shared_ptr<RequestHandle> handle;
  std::vector<std::unique_ptr<SequenceState>> candidates;
  std::vector<TokenEvent> held_ends;  // best_of: candidate kEnds until all are done
  int32_t unfinished = 0;
  bool done = false;                  // its final event was sent
  bool sink_failed = false;
  Clock::time_point submitted;
  std::optional<Clock::time_point> scheduled;
};

}  // namespace

struct Engine::Impl {
  std::unique_ptr<model::CausalLm> model;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
  EngineConfig config;
  std::unique_ptr<model::KvCache> kv_cache;
  std::unique_ptr<BlockPool> pool;
  std::unique_ptr<Scheduler> scheduler;
  std::unordered_set<int32_t> eos_ids;
  int32_t vocab_size = 0;
  int32_t budget_tokens = 0;

  // Shared with submitters.
  std::mutex inbox_mutex;
  std::condition_variable inbox_cv;
  std::vector<std::unique_ptr<RequestState>> inbox;
  bool stopping = false;
  std::atomic<int32_t> in_flight{0};
  std::atomic<bool> accepting{true};
  mutable std::mutex stats_mutex;
  EngineStats stats;
  std::thread loop_thread;

  // Owned by the loop thread.
  std::list<std::unique_ptr<RequestState>> active;
  int64_t next_sequence_id = 0;
  std::mt19937_64 seed_source{std::random_device{}()};
  std::vector<float> logits;
  // The step's ragged batch, kept between steps so that building one allocates nothing.
  std::vector<int32_t> token_ids, positions;
  std::vector<model::SequenceInBatch> rows;
  EngineStats loop_stats;  // counters accumulated by the loop, published each step
  // Structured output: the vocabulary as a byte trie, built on the first constrained request.
  std::unique_ptr<grammar::TokenTrie> trie;
  std::vector<std::string> vocabulary_bytes;  // what each token adds to the output
  // Lexeme masks per compiled grammar, shared by every request that uses it (the server's
  // grammar cache hands equal constraints the same Grammar). Holding the grammar keeps the key
  // unique; the map is emptied when it grows past a bound.
  struct GrammarMasks {
    std::shared_ptr<const grammar::Grammar> grammar;
    grammar::LexemeMaskCache cache;
  };
  // Shared so that a mask computation in flight keeps its entry even if the map is emptied.
  std::unordered_map<const grammar::Grammar*, std::shared_ptr<GrammarMasks>> grammar_masks;
  const std::shared_ptr<GrammarMasks>& masks_entry(const std::shared_ptr<const grammar::Grammar>& g);
  grammar::LexemeMaskCache& masks_for(const std::shared_ptr<const grammar::Grammar>& g) {
    return masks_entry(g)->cache;
  }
  grammar::TokenBitmask allowed_tokens;
  // Masks of the step's constrained sequences are computed here while the forward runs (the
  // matchers and mask caches are touched by nothing else meanwhile).
  std::unique_ptr<BackgroundTask> mask_worker;
  struct EarlyMaskJob {
    SequenceState* seq;
    std::shared_ptr<GrammarMasks> masks;
  };
  std::vector<EarlyMaskJob> early_mask_jobs;
  // Starts computing the next mask of every constrained sequence that samples this step.
  void start_early_masks(const StepPlan& plan);
  std::vector<std::pair<int32_t, float>> eos_logits;  // mask_by_grammar's scratch

  void run_loop();
  bool take_inbox(bool block);
  void admit_to_queue(std::unique_ptr<RequestState> state);
  void run_step();
  // Speculation: fills Sequence::proposal of the sequences that decode this step.
  void propose_tokens();
  // Drops the proposal's tail from the first token the sequence's grammar would refuse.
  void trim_proposal_to_grammar(SequenceState& seq);
  std::optional<NgramProposer> proposer;
  // Or proposals from a draft model's greedy tokens, with its own KV cache on the same block ids.
  std::unique_ptr<model::CausalLm> draft;
  std::unique_ptr<model::KvCache> draft_kv;
  StepCostModel draft_costs;  // the draft's forward seconds by rows
  std::vector<float> draft_logits;
  std::vector<int32_t> draft_token_ids, draft_positions;
  std::vector<model::SequenceInBatch> draft_rows;
  std::vector<ScheduledChunk*> drafting;  // fill_draft_proposals' scratch
  bool speculating() const { return proposer.has_value() || draft != nullptr; }
  // Runs the draft model to fill in the proposals the plan made room for (catching each sequence
  // up first); on a draft failure the step goes on without them.
  void fill_draft_proposals(StepPlan& plan);
  bool run_draft(std::span<const model::SequenceInBatch> rows);
  // The leading entries of seq's block table that hold its first `tokens` positions: a forward
  // reads a table as exactly the context it covers.
  std::span<const int32_t> blocks_covering(const Sequence& seq, int32_t tokens) const {
    const int32_t bs = pool->block_size();
    return std::span<const int32_t>(seq.block_table.data(), static_cast<size_t>((tokens + bs - 1) / bs));
  }
  StepCostModel step_costs;               // forward seconds by rows, measured while speculation is on
  std::vector<SequenceState*> proposing;  // propose_tokens' scratch
  std::vector<double> proposal_rates;
  std::vector<int32_t> proposal_sizes;
  void process_outputs(const StepPlan& plan, const std::vector<model::SequenceInBatch>& rows);
  void sample_and_emit(SequenceState& seq, std::span<float> row);
  // Samples a speculative chunk's rows in order, keeping the proposals that agree.
  void verify_proposal(SequenceState& seq, const ScheduledChunk& chunk, size_t first_row);
  // Leaves finite logits only on the tokens the sequence's grammar allows next (EOS exactly
  // when the output is complete). False when no token at all may follow.
  bool mask_by_grammar(SequenceState& seq, std::span<float> row);
  const grammar::TokenTrie& token_trie();
  const std::string& token_bytes_of(int32_t id) const {
    static const std::string kNone;
    return id >= 0 && static_cast<size_t>(id) < vocabulary_bytes.size() ? vocabulary_bytes[id] : kNone;
  }
  void finish_sequence(SequenceState& seq, FinishReason reason);
  void fail_request(RequestState& request, Error error);
  void emit(RequestState& request, TokenEvent&& event);
  // Marks the request done and frees its concurrency slots before its final event goes out, so
  // a client that saw the end can submit again and stats already show it gone.
  void retire(RequestState& request);
  void check_cancellations();
  void sweep_done();
  void publish_stats();
  int32_t last_batch_size = 0, last_batch_tokens = 0;
  TokenInfo token_info(int32_t id, float logprob) const;
};

// --- creation and submission -------------------------------------------------------------

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() { shutdown(); }

Result<std::unique_ptr<Engine>> Engine::create(std::unique_ptr<model::CausalLm> model,
                                               std::shared_ptr<const tokenizer::Tokenizer> tokenizer,
                                               EngineConfig config, std::unique_ptr<model::CausalLm> draft) {
  if (!model) return Error::make(ErrorKind::kInvalidArgument, "engine needs a model");
  if (config.max_batch_prefill_tokens <= 0)
    return Error::make(ErrorKind::kInvalidArgument, "max_batch_prefill_tokens must be positive, got {}",
                       config.max_batch_prefill_tokens);
  if (config.max_concurrent_requests <= 0)
    return Error::make(ErrorKind::kInvalidArgument, "max_concurrent_requests must be positive, got {}",
                       config.max_concurrent_requests);
  if (config.speculation.max_tokens < 0)
    return Error::make(ErrorKind::kInvalidArgument, "speculate must not be negative, got {}",
                       config.speculation.max_tokens);
  if (draft && draft->vocab_size() != model->vocab_size())
    return Error::make(ErrorKind::kInvalidArgument,
                       "the draft model's vocabulary ({} tokens) is not the model's ({} tokens)",
                       draft->vocab_size(), model->vocab_size());
  // Blocks may leave a sequence's window only when no layer looks further back (not for
  // gemma-style mixes of sliding and global layers, whatever the flags say).
  const model::ModelConfig& mc = model->config();
  const bool all_sliding = mc.sliding_window > 0 && !mc.layer_types.empty() &&
                           std::all_of(mc.layer_types.begin(), mc.layer_types.end(), [](model::LayerType t) {
                             return t == model::LayerType::kSlidingAttention;
                           });
  const int32_t window =
      all_sliding && config.sliding_window != 0 ? static_cast<int32_t>(mc.sliding_window) : 0;
  if (draft && (window > 0 || config.speculation.max_tokens == 0)) {
    // A draft catching up reads every earlier position, and released blocks are gone.
    if (window > 0)
      spdlog::warn(
          "engine: the model releases blocks outside its sliding window; speculating by prompt lookup "
          "instead of the draft model");
    draft.reset();
  }
  const size_t kv_bytes_per_token = model->kv_bytes_per_token() + (draft ? draft->kv_bytes_per_token() : 0);
  TGI_ASSIGN_OR_RETURN(
      int32_t num_blocks,
      kv_cache_blocks(config.max_batch_total_tokens, config.kv_cache_memory_fraction,
                      model->memory().available_bytes, kv_bytes_per_token, config.block_size));
  auto impl = std::make_unique<Impl>();
  impl->kv_cache = model->allocate_kv_cache(num_blocks, config.block_size);
  if (!impl->kv_cache) return Error::make(ErrorKind::kIo, "could not allocate a KV cache of {} blocks", num_blocks);
  if (draft) {
    impl->draft_kv = draft->allocate_kv_cache(num_blocks, config.block_size);
    if (!impl->draft_kv)
      return Error::make(ErrorKind::kIo, "could not allocate the draft model's KV cache of {} blocks",
                         num_blocks);
    impl->draft = std::move(draft);
  }
  impl->vocab_size = model->vocab_size();
  for (int32_t id : config.eos_token_ids) impl->eos_ids.insert(id);
  for (int64_t id : model->config().eos_token_ids) impl->eos_ids.insert(static_cast<int32_t>(id));
  if (tokenizer && tokenizer->config().eos_token_id) impl->eos_ids.insert(*tokenizer->config().eos_token_id);
  impl->budget_tokens = num_blocks * config.block_size;
  impl->pool = std::make_unique<BlockPool>(num_blocks, config.block_size, config.prefix_caching);
  if (config.speculation.max_tokens > 0 && !impl->draft) impl->proposer.emplace(config.speculation.ngram);
  impl->scheduler = std::make_unique<Scheduler>(
      *impl->pool, SchedulerLimits{config.max_batch_prefill_tokens, config.max_batch_size, window});
  impl->model = std::move(model);
  impl->tokenizer = std::move(tokenizer);
  impl->config = std::move(config);
  impl->stats.kv_blocks_total = num_blocks;
  impl->stats.block_size = impl->config.block_size;
  impl->stats.max_total_tokens = impl->budget_tokens;
  spdlog::info(
      "engine: KV cache {} blocks x {} tokens = {} tokens ({} bytes/token), prefix caching {}, "
      "sliding-window block release {}, speculation {}",
      num_blocks, impl->config.block_size, impl->budget_tokens, kv_bytes_per_token,
      impl->config.prefix_caching ? "on" : "off",
      window > 0 ? fmt::format("after {} tokens", window) : std::string("off"),
      impl->config.speculation.max_tokens == 0
          ? std::string("off")
          : fmt::format("up to {} tokens from {}", impl->config.speculation.max_tokens,
                        impl->draft ? "the draft model" : "prompt lookup"));
  Impl* raw = impl.get();
  impl->loop_thread = std::thread([raw] { raw->run_loop(); });
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<std::shared_ptr<RequestHandle>> Engine::submit(GenerationRequest request, EventSink sink) {
  Impl& d = *impl_;
  if (!d.accepting.load()) return Error::make(ErrorKind::kGeneration, "engine is shutting down");
  if (request.input_ids.empty()) return Error::make(ErrorKind::kValidation, "`inputs` cannot be empty");
  if (request.stopping.max_new_tokens <= 0)
    return Error::make(ErrorKind::kValidation, "`max_new_tokens` must be strictly positive");
  for (int32_t id : request.input_ids)
    if (id < 0 || id >= d.vocab_size)
      return Error::make(ErrorKind::kValidation, "token id {} is outside the vocabulary (size {})", id, d.vocab_size);
  const int64_t total = static_cast<int64_t>(request.input_ids.size()) + request.stopping.max_new_tokens;
  if (total > d.budget_tokens)
    return Error::make(ErrorKind::kValidation,
                       "`inputs` tokens + `max_new_tokens` must be <= {}. Given: {} `inputs` tokens and {} "
                       "`max_new_tokens`",
                       d.budget_tokens, request.input_ids.size(), request.stopping.max_new_tokens);
  request.best_of = std::max(request.best_of, 1);
  const int32_t n = request.best_of;
  if (d.in_flight.fetch_add(n) + n > d.config.max_concurrent_requests) {
    d.in_flight.fetch_sub(n);
    return Error::make(ErrorKind::kOverloaded, "Model is overloaded");
  }
  auto state = std::make_unique<RequestState>();
  state->handle = std::make_shared<RequestHandle>(request.request_id);
  state->request = std::move(request);
  state->sink = std::move(sink);
  state->submitted = Clock::now();
  auto handle = state->handle;
  {
    std::lock_guard lock(d.inbox_mutex);
    if (d.stopping) {
      d.in_flight.fetch_sub(n);
      return Error::make(ErrorKind::kGeneration, "engine is shutting down");
    }
    d.inbox.push_back(std::move(state));
  }
  d.inbox_cv.notify_one();
  return handle;
}

EngineStats Engine::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  EngineStats s = impl_->stats;
  s.in_flight = impl_->in_flight.load();
  return s;
}

int32_t Engine::max_total_tokens_budget() const { return impl_->budget_tokens; }
const EngineConfig& Engine::config() const { return impl_->config; }

void Engine::shutdown() {
  if (!impl_) return;
  impl_->accepting.store(false);
  {
    std::lock_guard lock(impl_->inbox_mutex);
    impl_->stopping = true;
  }
  impl_->inbox_cv.notify_one();
  if (impl_->loop_thread.joinable()) impl_->loop_thread.join();
}

// --- the loop -----------------------------------------------------------------------------

bool Engine::Impl::take_inbox(bool block) {
  std::vector<std::unique_ptr<RequestState>> arrived;
  bool stop;
  {
    std::unique_lock lock(inbox_mutex);
    if (block) inbox_cv.wait(lock, [&] { return stopping || !inbox.empty(); });
    arrived.swap(inbox);
    stop = stopping;
  }
  for (auto& state : arrived) admit_to_queue(std::move(state));
  return !stop;
}

void Engine::Impl::admit_to_queue(std::unique_ptr<RequestState> state) {
  const GenerationRequest& req = state->request;
  const bool seeded = req.sampling.seed.has_value();
  for (int32_t c = 0; c < req.best_of; ++c) {
    const uint64_t seed = seeded && c == 0 ? *req.sampling.seed : seed_source();
    auto seq = std::make_unique<SequenceState>(TokenSampler(req.sampling, seed, req.top_n_tokens),
                                               req.stopping.stop_sequences);
    seq->id = next_sequence_id++;
    seq->tokens = req.input_ids;
    seq->prompt_len = static_cast<int32_t>(req.input_ids.size());
    seq->request = state.get();
    seq->candidate = c;
    seq->wants_prompt_logprobs = req.decoder_input_details && c == 0;
    seq->skip_prefix_lookup = seq->wants_prompt_logprobs;
    if (seq->wants_prompt_logprobs) seq->prompt_logprobs.assign(seq->prompt_len, kNaN);
    if (req.grammar) seq->grammar_matcher.emplace(*req.grammar);
    if (tokenizer) {
      seq->stream_decoder.emplace(*tokenizer, /*skip_special_tokens=*/true);
      seq->token_decoder.emplace(*tokenizer, /*skip_special_tokens=*/false);
    }
    scheduler->enqueue(seq.get());
    state->candidates.push_back(std::move(seq));
  }
  state->unfinished = req.best_of;
  active.push_back(std::move(state));
}

void Engine::Impl::run_loop() {
  while (true) {
    const bool idle = active.empty();
    if (!take_inbox(/*block=*/idle)) break;
    try {
      check_cancellations();
      run_step();
    } catch (const std::exception& e) {
      // Nothing may escape the loop: fail what is in flight, keep serving.
      spdlog::error("engine step failed: {}", e.what());
      for (auto& r : active)
        if (!r->done) fail_request(*r, Error::make(ErrorKind::kGeneration, "engine error: {}", e.what()));
    } catch (...) {
      spdlog::error("engine step failed with an unknown exception");
      for (auto& r : active)
        if (!r->done) fail_request(*r, Error::make(ErrorKind::kGeneration, "engine error"));
    }
    sweep_done();
  }
  for (auto& r : active)
    if (!r->done) fail_request(*r, Error::make(ErrorKind::kGeneration, "engine is shutting down"));
  sweep_done();
  // Requests that arrived while stopping were never queued.
  std::vector<std::unique_ptr<RequestState>> late;
  {
    std::lock_guard lock(inbox_mutex);
    late.swap(inbox);
  }
  for (auto& r : late) {
    TokenEvent event;
    event.kind = TokenEvent::Kind::kError;
    event.error = Error::make(ErrorKind::kGeneration, "engine is shutting down");
    try {
      r->sink(std::move(event));
    } catch (...) {
    }
    in_flight.fetch_sub(r->request.best_of);
  }
  last_batch_size = last_batch_tokens = 0;
  publish_stats();
}

void Engine::Impl::check_cancellations() {
  for (auto& r : active) {
    if (r->done) continue;
    if (r->handle->cancelled() || r->sink_failed) {
      ++loop_stats.requests_cancelled;
      fail_request(*r, Error::make(ErrorKind::kGeneration, "cancelled"));
    }
  }
}

void Engine::Impl::sweep_done() {
  for (auto it = active.begin(); it != active.end();) {
    if ((*it)->done) {
      it = active.erase(it);
    } else {
      ++it;
    }
  }
  if (active.empty()) last_batch_size = last_batch_tokens = 0;
  publish_stats();
}

void Engine::Impl::propose_tokens() {
  if (!speculating()) return;
  const std::vector<Sequence*>& running = scheduler->running();
  for (Sequence* s : running) s->proposal.clear();
  // A step with prompt rows is bound by arithmetic already; many decoding sequences too.
  const bool prefilling =
      std::any_of(running.begin(), running.end(), [](const Sequence* s) { return s->num_pending() > 1; });
  const auto decoding = static_cast<int32_t>(running.size());
  if (prefilling || decoding > config.speculation.max_batch) return;
  proposing.clear();
  proposal_rates.clear();
  proposal_sizes.clear();
  for (Sequence* s : running) {
    auto* seq = static_cast<SequenceState*>(s);
    if (seq->finished) continue;
    // The last sampled token is the pending one; proposals beyond max_new_tokens are wasted.
    const int32_t room = seq->request->request.stopping.max_new_tokens - seq->generated - 1;
    const int32_t length = std::max(0, std::min(config.speculation.max_tokens, room));
    if (draft) {
      // Room for the draft's tokens, filled in once the scheduler has placed them.
      seq->proposal.assign(static_cast<size_t>(length), seq->tokens.back());
    } else if (length > 0 && proposer->propose(seq->tokens, length, seq->proposal) > 0 &&
               seq->grammar_matcher) {
      trim_proposal_to_grammar(*seq);
    }
    proposing.push_back(seq);
    proposal_rates.push_back(seq->acceptance.rate());
    proposal_sizes.push_back(static_cast<int32_t>(seq->proposal.size()));
  }
  if (config.speculation.cost_aware) {
    // A draft model costs one batched step of its own per token of proposal depth.
    const double per_depth = draft ? draft_costs.estimate(static_cast<int32_t>(proposing.size())) : 0;
    const std::vector<int32_t> lengths =
        choose_proposal_lengths(step_costs, decoding, proposal_rates, proposal_sizes, per_depth);
    for (size_t i = 0; i < proposing.size(); ++i) proposing[i]->proposal.resize(lengths[i]);
  }
  for (SequenceState* seq : proposing)
    if (seq->proposal.empty()) seq->acceptance.on_step_without_proposal();
}

bool Engine::Impl::run_draft(std::span<const model::SequenceInBatch> rows) {
  model::Batch batch;
  batch.token_ids = draft_token_ids;
  batch.positions = draft_positions;
  batch.sequences = rows;
  draft_logits.resize(static_cast<size_t>(batch.num_logit_rows()) * vocab_size);
  const auto start = Clock::now();
  Result<void> ran = Error::make(ErrorKind::kInternal, "draft not run");
  try {
    ran = draft->forward(batch, *draft_kv, draft_logits);
  } catch (const std::exception& e) {
    ran = Error::make(ErrorKind::kGeneration, "draft forward threw: {}", e.what());
  }
  if (!ran.ok()) {
    spdlog::warn("engine: draft model forward failed, speculating without it this step: {}",
                 ran.error().message);
    return false;
  }
  draft_costs.record(batch.num_tokens(), seconds_between(start, Clock::now()));
  return true;
}

void Engine::Impl::fill_draft_proposals(StepPlan& plan) {
  if (!draft) return;
  drafting.clear();
  for (ScheduledChunk& chunk : plan.chunks)
    if (chunk.proposed > 0) drafting.push_back(&chunk);
  auto drop_all = [&] {
    for (ScheduledChunk* chunk : drafting) {
      chunk->len -= chunk->proposed;
      chunk->proposed = 0;
      chunk->seq->proposal.clear();
    }
  };
  auto greedy = [&](size_t row) {
    const float* l = draft_logits.data() + row * vocab_size;
    return static_cast<int32_t>(std::max_element(l, l + vocab_size) - l);
  };
  // Depth 0, one draft forward: prompt chunks, which the draft computes along with the model so
  // that proposing later needs no long catch-up; and for each proposing sequence, the tokens the
  // draft has not seen through its pending token, whose greedy next token is the first proposal.
  draft_token_ids.clear();
  draft_positions.clear();
  draft_rows.clear();
  auto add_rows = [&](SequenceState& seq, int32_t end, model::LogitsWanted logits) {
    if (seq.preemptions != seq.draft_preemptions) {
      seq.draft_computed = 0;
      seq.draft_preemptions = seq.preemptions;
    }
    const int32_t from = std::min(seq.draft_computed, end - 1);
    model::SequenceInBatch row;
    row.query_start = static_cast<int32_t>(draft_token_ids.size());
    row.query_len = end - from;
    row.context_len = from;
    row.block_table = blocks_covering(seq, end);
    row.logits = logits;
    for (int32_t p = from; p < end; ++p) {
      draft_token_ids.push_back(seq.tokens[p]);
      draft_positions.push_back(p);
    }
    draft_rows.push_back(row);
  };
  for (ScheduledChunk& chunk : plan.chunks) {
    auto* seq = static_cast<SequenceState*>(chunk.seq);
    if (chunk.proposed > 0) {
      seq->proposal.resize(static_cast<size_t>(chunk.proposed));
      add_rows(*seq, chunk.start + 1, model::LogitsWanted::kLast);
    } else if (chunk.len > 1 || !chunk.samples()) {
      add_rows(*seq, chunk.start + chunk.len, model::LogitsWanted::kNone);
    }
  }
  if (draft_rows.empty()) return;
  if (!run_draft(draft_rows)) {
    for (ScheduledChunk& chunk : plan.chunks) static_cast<SequenceState*>(chunk.seq)->draft_computed = 0;
    return drop_all();
  }
  for (ScheduledChunk& chunk : plan.chunks)
    if (chunk.proposed == 0 && (chunk.len > 1 || !chunk.samples()))
      static_cast<SequenceState*>(chunk.seq)->draft_computed = chunk.start + chunk.len;
  if (drafting.empty()) return;
  for (size_t i = 0; i < drafting.size(); ++i) {
    auto* seq = static_cast<SequenceState*>(drafting[i]->seq);
    seq->proposal[0] = greedy(i);
    seq->draft_computed = drafting[i]->start + 1;
  }
  // Depth d: the sequences proposing more than d tokens feed their proposal d - 1.
  for (int32_t d = 1;; ++d) {
    draft_token_ids.clear();
    draft_positions.clear();
    draft_rows.clear();
    for (ScheduledChunk* chunk : drafting) {
      if (chunk->proposed <= d) continue;
      model::SequenceInBatch row;
      row.query_start = static_cast<int32_t>(draft_token_ids.size());
      row.query_len = 1;
      row.context_len = chunk->start + d;
      row.block_table = blocks_covering(*chunk->seq, chunk->start + d + 1);
      row.logits = model::LogitsWanted::kLast;
      draft_token_ids.push_back(chunk->seq->proposal[d - 1]);
      draft_positions.push_back(chunk->start + d);
      draft_rows.push_back(row);
    }
    if (draft_rows.empty()) break;
    if (!run_draft(draft_rows)) return drop_all();
    size_t row = 0;
    for (ScheduledChunk* chunk : drafting)
      if (chunk->proposed > d) chunk->seq->proposal[d] = greedy(row++);
  }
  // A constrained sequence's proposals stop where its grammar would refuse them.
  for (ScheduledChunk* chunk : drafting) {
    auto* seq = static_cast<SequenceState*>(chunk->seq);
    if (!seq->grammar_matcher) continue;
    trim_proposal_to_grammar(*seq);
    const auto kept = static_cast<int32_t>(seq->proposal.size());
    chunk->len -= chunk->proposed - kept;
    chunk->proposed = kept;
  }
}

void Engine::Impl::trim_proposal_to_grammar(SequenceState& seq) {
  grammar::GrammarMatcher& matcher = *seq.grammar_matcher;
  token_trie();  // the vocabulary's bytes
  const size_t position = matcher.position();
  size_t keep = 0;
  for (int32_t id : seq.proposal) {
    const std::string& bytes = token_bytes_of(id);
    // End-of-sequence and special tokens have no bytes; the mask decides those, not a guess.
    if (bytes.empty() || !matcher.push_bytes(bytes)) break;
    ++keep;
  }
  matcher.pop_to(position);
  seq.proposal.resize(keep);
}

void Engine::Impl::run_step() {
  propose_tokens();
  StepPlan plan = scheduler->schedule();
  fill_draft_proposals(plan);
  loop_stats.preemptions = scheduler->preemptions();
  loop_stats.prefix_cache_hit_tokens = scheduler->prefix_hit_tokens();
  if (plan.empty()) {
    if (!scheduler->waiting().empty() && scheduler->running().empty()) {
      // Cannot happen for requests that passed submit(); never spin on one that got through.
      auto* seq = static_cast<SequenceState*>(scheduler->waiting().front());
      fail_request(*seq->request, Error::make(ErrorKind::kGeneration, "request does not fit the KV cache"));
    }
    return;
  }
  const auto now = Clock::now();
  for (Sequence* s : plan.admitted) {
    auto* seq = static_cast<SequenceState*>(s);
    if (!seq->request->scheduled) seq->request->scheduled = now;
  }

  // Build the ragged batch.
  token_ids.clear();
  positions.clear();
  rows.clear();
  const int32_t bs = pool->block_size();
  for (const ScheduledChunk& chunk : plan.chunks) {
    auto* seq = static_cast<SequenceState*>(chunk.seq);
    model::SequenceInBatch row;
    row.query_start = static_cast<int32_t>(token_ids.size());
    row.query_len = chunk.len;
    row.context_len = chunk.start;
    const int32_t blocks = (chunk.start + chunk.len + bs - 1) / bs;
    row.block_table = std::span<const int32_t>(seq->block_table.data(), blocks);
    const bool prompt_rows = seq->wants_prompt_logprobs && chunk.start < seq->prompt_len;
    row.logits = prompt_rows || chunk.proposed > 0
                     ? model::LogitsWanted::kAll
                     : (chunk.samples() ? model::LogitsWanted::kLast : model::LogitsWanted::kNone);
    const int32_t real = chunk.len - chunk.proposed;
    for (int32_t i = 0; i < chunk.len; ++i) {
      token_ids.push_back(i < real ? seq->tokens[chunk.start + i] : seq->proposal[i - real]);
      positions.push_back(chunk.start + i);
    }
    rows.push_back(row);
  }
  model::Batch batch;
  batch.token_ids = token_ids;
  batch.positions = positions;
  batch.sequences = rows;
  logits.resize(static_cast<size_t>(batch.num_logit_rows()) * vocab_size);

  ++loop_stats.steps;
  Result<void> forward = Error::make(ErrorKind::kInternal, "forward not run");
  start_early_masks(plan);
  const auto forward_start = Clock::now();
  try {
    forward = model->forward(batch, *kv_cache, logits);
    if (speculating()) step_costs.record(batch.num_tokens(), seconds_between(forward_start, Clock::now()));
  } catch (const std::exception& e) {
    forward = Error::make(ErrorKind::kGeneration, "forward pass threw: {}", e.what());
  }
  if (!early_mask_jobs.empty() && !mask_worker->wait())
    for (const EarlyMaskJob& job : early_mask_jobs) job.seq->early_mask_position.reset();
  if (!forward.ok()) {
    ++loop_stats.forward_failures;
    spdlog::error("engine: forward failed: {}", forward.error().message);
    for (const ScheduledChunk& chunk : plan.chunks) {
      auto* seq = static_cast<SequenceState*>(chunk.seq);
      if (!seq->request->done) fail_request(*seq->request, forward.error());
    }
    return;
  }
  scheduler->complete(plan);
  for (const ScheduledChunk& chunk : plan.chunks) {
    auto* seq = static_cast<SequenceState*>(chunk.seq);
    const int32_t prompt_part = std::max(0, std::min(chunk.start + chunk.len, seq->prompt_len) - chunk.start);
    loop_stats.prefill_tokens += prompt_part;
    loop_stats.decode_tokens += chunk.len - prompt_part;
    if (chunk.proposed > 0) {
      ++loop_stats.speculative_steps;
      loop_stats.speculative_proposed_tokens += chunk.proposed;
    }
  }
  last_batch_size = static_cast<int32_t>(plan.chunks.size());
  last_batch_tokens = plan.num_tokens();
  process_outputs(plan, rows);
  publish_stats();
}

void Engine::Impl::process_outputs(const StepPlan& plan, const std::vector<model::SequenceInBatch>& rows) {
  size_t logit_row = 0;
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    const ScheduledChunk& chunk = plan.chunks[i];
    auto* seq = static_cast<SequenceState*>(chunk.seq);
    const model::SequenceInBatch& row = rows[i];
    const int32_t nrows = row.logits == model::LogitsWanted::kAll ? row.query_len
                          : row.logits == model::LogitsWanted::kLast ? 1 : 0;
    auto row_span = [&](size_t r) {
      return std::span<float>(logits.data() + r * vocab_size, static_cast<size_t>(vocab_size));
    };
    if (row.logits == model::LogitsWanted::kAll && chunk.proposed == 0) {
      // Row r predicts token start + r + 1: prompt logprobs from the raw logits.
      for (int32_t r = 0; r < nrows; ++r) {
        const int32_t target = chunk.start + r + 1;
        if (target >= seq->prompt_len) break;
        auto span = row_span(logit_row + r);
        seq->prompt_logprobs[target] = span[seq->tokens[target]] - argmax_and_log_sum_exp(span).log_sum_exp;
      }
      if (chunk.start + chunk.len >= seq->prompt_len && !seq->request->done) {
        TokenEvent event;
        event.kind = TokenEvent::Kind::kPrompt;
        event.candidate = seq->candidate;
        for (int32_t p = 0; p < seq->prompt_len; ++p) {
          TokenInfo info = token_info(seq->tokens[p], seq->prompt_logprobs[p]);
          if (tokenizer) info.text = tokenizer->decode(std::span<const int32_t>(&seq->tokens[p], 1));
          event.prompt.push_back(std::move(info));
        }
        seq->wants_prompt_logprobs = false;
        seq->skip_prefix_lookup = false;
        emit(*seq->request, std::move(event));
      }
    }
    if (chunk.proposed > 0) {
      verify_proposal(*seq, chunk, logit_row);
    } else if (chunk.samples() && nrows > 0 && !seq->request->done && !seq->finished) {
      sample_and_emit(*seq, row_span(logit_row + nrows - 1));
    }
    logit_row += nrows;
  }
}

void Engine::Impl::verify_proposal(SequenceState& seq, const ScheduledChunk& chunk, size_t first_row) {
  // Row r holds the logits after the pending token and r proposals. Sampling it exactly as a
  // step without speculation would, the proposal r stands only if the sample equals it; the first
  // mismatch (or the row after the last proposal) yields the step's final token.
  const int32_t pending_row = chunk.len - chunk.proposed - 1;
  int32_t accepted = 0;
  for (int32_t r = 0; r <= chunk.proposed; ++r) {
    if (seq.request->done || seq.finished) break;
    std::span<float> row(logits.data() + (first_row + pending_row + r) * vocab_size,
                         static_cast<size_t>(vocab_size));
    sample_and_emit(seq, row);
    if (seq.finished || r == chunk.proposed || seq.tokens.back() != seq.proposal[r]) break;
    // Counted before the next token, which may end the sequence and publish the stats.
    ++accepted;
    ++seq.accepted_proposals;
    ++loop_stats.speculative_accepted_tokens;
  }
  seq.acceptance.record(chunk.proposed, accepted);
  // The draft wrote K/V for the pending token and all but the last proposal; the kept ones match.
  if (draft) seq.draft_computed = chunk.start + 1 + std::min(accepted, chunk.proposed - 1);
  if (!seq.finished && !seq.request->done) scheduler->accept_proposed(&seq, accepted);
  seq.proposal.clear();
}

TokenInfo Engine::Impl::token_info(int32_t id, float logprob) const {
  TokenInfo info;
  info.id = id;
  info.logprob = logprob;
  info.special = tokenizer ? tokenizer->is_special(id) : false;
  return info;
}

const grammar::TokenTrie& Engine::Impl::token_trie() {
  if (!trie) {
    if (tokenizer) vocabulary_bytes = tokenizer::token_bytes(*tokenizer);
    for (int32_t id : eos_ids)  // the end is decided apart from the bytes
      if (id >= 0 && static_cast<size_t>(id) < vocabulary_bytes.size()) vocabulary_bytes[id].clear();
    trie = std::make_unique<grammar::TokenTrie>(vocabulary_bytes);
  }
  return *trie;
}

const std::shared_ptr<Engine::Impl::GrammarMasks>& Engine::Impl::masks_entry(
    const std::shared_ptr<const grammar::Grammar>& g) {
  constexpr size_t kMaxGrammars = 64;
  auto it = grammar_masks.find(g.get());
  if (it == grammar_masks.end()) {
    // Masks of grammars no request uses any more go first.
    if (grammar_masks.size() >= kMaxGrammars) {
      std::erase_if(grammar_masks, [](const auto& entry) { return entry.second->grammar.use_count() == 1; });
      if (grammar_masks.size() >= kMaxGrammars) grammar_masks.clear();
    }
    it = grammar_masks.emplace(g.get(), std::make_shared<GrammarMasks>(GrammarMasks{g, {}})).first;
  }
  return it->second;
}

void Engine::Impl::start_early_masks(const StepPlan& plan) {
  early_mask_jobs.clear();
  for (const ScheduledChunk& chunk : plan.chunks) {
    auto* seq = static_cast<SequenceState*>(chunk.seq);
    seq->early_mask_position.reset();
    if (!seq->grammar_matcher || !chunk.samples() || seq->finished || seq->request->done) continue;
    early_mask_jobs.push_back({seq, masks_entry(seq->request->request.grammar)});
  }
  if (early_mask_jobs.empty()) return;
  const grammar::TokenTrie& vocabulary = token_trie();
  if (!mask_worker) mask_worker = std::make_unique<BackgroundTask>();
  mask_worker->start([this, &vocabulary] {
    for (const EarlyMaskJob& job : early_mask_jobs) {
      grammar::GrammarMatcher& matcher = *job.seq->grammar_matcher;
      vocabulary.fill_allowed(matcher, job.seq->early_mask, job.masks->cache);
      job.seq->early_mask_position = matcher.position();
    }
  });
}

bool Engine::Impl::mask_by_grammar(SequenceState& seq, std::span<float> row) {
  grammar::GrammarMatcher& matcher = *seq.grammar_matcher;
  const grammar::TokenTrie& vocabulary = token_trie();
  // The mask computed during the forward, when the matcher has not moved since (the first row
  // of a step); later rows of a speculative step compute theirs here.
  const bool early = seq.early_mask_position == matcher.position();
  seq.early_mask_position.reset();
  ++loop_stats.grammar_masks;
  loop_stats.grammar_masks_overlapped += early;
  if (!early) vocabulary.fill_allowed(matcher, allowed_tokens, masks_for(seq.request->request.grammar));
  const grammar::TokenBitmask& allowed = early ? seq.early_mask : allowed_tokens;
  const bool complete = matcher.accepting();
  constexpr float kMasked = -std::numeric_limits<float>::infinity();
  eos_logits.clear();
  for (int32_t id : eos_ids)
    if (id >= 0 && static_cast<size_t>(id) < row.size()) eos_logits.emplace_back(id, row[id]);
  const std::vector<uint64_t>& words = allowed.words();
  const size_t known = std::min(row.size(), vocabulary.vocab_size());
  bool any = false;
  for (size_t w = 0; w * 64 < known; ++w) {
    const uint64_t bits = words[w];
    if (bits != 0) any = true;
    if (bits == ~uint64_t{0}) continue;
    const size_t end = std::min(known, w * 64 + 64);
    for (size_t i = w * 64; i < end; ++i)
      if (((bits >> (i & 63)) & 1) == 0) row[i] = kMasked;
  }
  for (size_t i = known; i < row.size(); ++i) row[i] = kMasked;
  for (const auto& [id, logit] : eos_logits) row[id] = complete ? logit : kMasked;
  return any || (complete && !eos_logits.empty());
}

void Engine::Impl::sample_and_emit(SequenceState& seq, std::span<float> row) {
  if (seq.grammar_matcher && !mask_by_grammar(seq, row)) {
    // The vocabulary cannot spell any continuation the grammar allows (or the grammar is complete
    // and the model has no EOS token): end here rather than emit an unconstrained token.
    finish_sequence(seq, seq.grammar_matcher->accepting() ? FinishReason::kEosToken : FinishReason::kLength);
    return;
  }
  const SampledToken sampled = seq.sampler.next(row, seq.tokens, seq.prompt_len);
  seq.tokens.push_back(sampled.id);
  ++seq.generated;
  seq.logprob_sum += sampled.logprob;

  TokenEvent event;
  event.kind = TokenEvent::Kind::kToken;
  event.candidate = seq.candidate;
  event.token = token_info(sampled.id, sampled.logprob);
  if (seq.token_decoder) event.token.text = seq.token_decoder->push(sampled.id);
  for (const auto& [id, lp] : sampled.top) {
    TokenInfo alt = token_info(id, lp);
    if (tokenizer) alt.text = tokenizer->decode(std::span<const int32_t>(&id, 1));
    event.top_tokens.push_back(std::move(alt));
  }
  if (seq.stream_decoder) {
    event.text_delta = seq.stream_decoder->push(sampled.id);
    seq.stop_matcher.push(event.text_delta);
  }

  const StoppingParams& stopping = seq.request->request.stopping;
  const bool is_eos = eos_ids.count(sampled.id) > 0;
  // A constrained output also ends when its grammar allows nothing more (EOS would be forced).
  bool grammar_complete = false;
  if (seq.grammar_matcher && !is_eos) {
    const std::string& bytes = token_bytes_of(sampled.id);
    seq.grammar_matcher->push_bytes(bytes);  // allowed by the mask, so it always fits
    grammar_complete = !seq.grammar_matcher->can_continue();
  }
  std::optional<FinishReason> reason;
  if (seq.generated >= stopping.max_new_tokens) {
    reason = FinishReason::kLength;
  } else if (is_eos && (!stopping.ignore_eos || seq.grammar_matcher)) {
    reason = FinishReason::kEosToken;
  } else if (seq.stop_matcher.stopped()) {
    reason = FinishReason::kStopSequence;
  } else if (grammar_complete) {
    reason = FinishReason::kEosToken;
  }
  if (reason && seq.stream_decoder) {
    // Release an incomplete character the decoder was holding (replacement characters).
    std::string rest = seq.stream_decoder->flush();
    seq.stop_matcher.push(rest);
    event.text_delta += rest;
  }
  event.last = reason.has_value();
  emit(*seq.request, std::move(event));
  if (reason) finish_sequence(seq, *reason);
}

void Engine::Impl::finish_sequence(SequenceState& seq, FinishReason reason) {
  seq.finished = true;
  scheduler->remove(&seq);
  RequestState& request = *seq.request;
  TokenEvent end;
  end.kind = TokenEvent::Kind::kEnd;
  end.candidate = seq.candidate;
  end.finish_reason = reason;
  end.generated_text = seq.stop_matcher.text();
  end.generated_tokens = seq.generated;
  end.prompt_tokens = seq.prompt_len;
  end.cached_prompt_tokens = seq.cached_prompt_tokens;
  end.speculated_tokens = seq.accepted_proposals;
  if (seq.sampler.sampling()) end.seed = seq.sampler.seed();
  end.mean_logprob = seq.generated > 0 ? static_cast<float>(seq.logprob_sum / seq.generated) : 0.0f;
  const auto now = Clock::now();
  const auto scheduled = request.scheduled.value_or(now);
  end.queue_seconds = seconds_between(request.submitted, scheduled);
  end.inference_seconds = seconds_between(scheduled, now);
  ++loop_stats.requests_finished;
  --request.unfinished;
  if (request.request.best_of <= 1) {
    retire(request);
    emit(request, std::move(end));
    return;
  }
  request.held_ends.push_back(std::move(end));
  if (request.unfinished > 0) return;
  // best_of: the winner has the highest mean logprob; it goes last.
  auto winner = std::max_element(request.held_ends.begin(), request.held_ends.end(),
                                 [](const TokenEvent& a, const TokenEvent& b) { return a.mean_logprob < b.mean_logprob; });
  std::iter_swap(winner, request.held_ends.end() - 1);
  retire(request);
  for (size_t i = 0; i < request.held_ends.size(); ++i) {
    request.held_ends[i].best_of_winner = i + 1 == request.held_ends.size();
    emit(request, std::move(request.held_ends[i]));
  }
  request.held_ends.clear();
}

void Engine::Impl::fail_request(RequestState& request, Error error) {
  for (auto& seq : request.candidates) {
    if (!seq->finished) scheduler->remove(seq.get());
    seq->finished = true;
  }
  if (request.done) return;
  ++loop_stats.requests_failed;
  TokenEvent event;
  event.kind = TokenEvent::Kind::kError;
  event.error = std::move(error);
  retire(request);
  emit(request, std::move(event));
}

void Engine::Impl::retire(RequestState& request) {
  request.done = true;
  in_flight.fetch_sub(request.request.best_of);
  publish_stats();
}

void Engine::Impl::emit(RequestState& request, TokenEvent&& event) {
  if (request.sink_failed) return;
  try {
    request.sink(std::move(event));
  } catch (...) {
    // A sink that throws has lost its client: the request is cancelled at the next step.
    request.sink_failed = true;
  }
}

void Engine::Impl::publish_stats() {
  std::lock_guard lock(stats_mutex);
  EngineStats s = loop_stats;
  s.queue_size = static_cast<int32_t>(scheduler->waiting().size());
  s.running = static_cast<int32_t>(scheduler->running().size());
  s.last_batch_size = last_batch_size;
  s.last_batch_tokens = last_batch_tokens;
  s.kv_blocks_total = pool->num_blocks();
  s.kv_blocks_used = pool->num_referenced();
  s.kv_blocks_cached = pool->num_cached_unreferenced();
  s.block_size = pool->block_size();
  s.max_total_tokens = budget_tokens;
  stats = s;
}

}  // namespace tgi::engine
