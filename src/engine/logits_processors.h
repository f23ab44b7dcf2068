#pragma once
// Logits processors. Definitions follow Hugging Face transformers (what TGI runs) unless noted;
// see the comments for each. A token removed by a filter is "masked": -infinity in a full row,
// absent from a CandidateTokens list.
//
// Two forms, one arithmetic. The penalties edit a full row in place (they touch few entries). The
// sampling filters (temperature, top-k, top-p, typical-p, min-p) work on CandidateTokens, the
// tokens still in the running: after a top-k of 50 nothing reads the other 151,886 logits again.
// The full-row forms of the filters are that same code between gather and scatter, so both forms
// keep exactly the same tokens. NaN logits count as masked in the filters.
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace tgi::engine {

// The unmasked tokens of a row in increasing id order, with their (processed) logits: the same
// information as a row whose other entries are -infinity.
struct CandidateTokens {
  std::vector<int32_t> ids;
  std::vector<float> logits;

  size_t size() const { return ids.size(); }
  bool empty() const { return ids.empty(); }
  void clear() {
    ids.clear();
    logits.clear();
  }
  // Keeps the entries whose `keep[i]` is true, in order.
  void keep_where(const std::vector<bool>& keep);
};

// Every token of `row` that is neither -infinity nor NaN.
void gather_candidates(std::span<const float> row, CandidateTokens& out);
// Writes `candidates` into `row` and masks every other entry.
void scatter_candidates(const CandidateTokens& candidates, std::span<float> row);

// --- penalties, on a full row ------------------------------------------------------------

// OpenAI logit_bias: logit[id] += bias (ids outside the vocabulary are ignored).
void apply_logit_bias(std::span<float> logits, std::span<const std::pair<int32_t, float>> bias);

// CTRL / HF repetition penalty over every token seen (prompt and generated), each once:
// positive logits are divided by `penalty`, negative ones multiplied.
void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> seen_tokens,
                              float penalty);

// OpenAI frequency and presence penalties over the generated tokens:
// logit[t] -= count(t) * frequency + (count(t) > 0) * presence.
void apply_frequency_presence_penalty(std::span<float> logits, std::span<const int32_t> generated,
                                      float frequency, float presence);

// Kirchenbauer et al. watermark as TGI applies it: the green list is the first gamma·|V| entries
// of a vocabulary permutation seeded by hash_key·previous_token; green logits get +delta.
constexpr float kWatermarkGamma = 0.5f;
constexpr float kWatermarkDelta = 2.0f;
constexpr uint64_t kWatermarkHashKey = 15485863;
std::vector<int32_t> watermark_greenlist(int32_t vocab_size, int32_t previous_token,
                                         float gamma = kWatermarkGamma);
void apply_watermark(std::span<float> logits, int32_t previous_token, float gamma = kWatermarkGamma,
                     float delta = kWatermarkDelta);

// --- sampling filters, on candidates -------------------------------------------------------

// logit /= temperature (float division); temperature 1 or <= 0 changes nothing.
void apply_temperature(CandidateTokens& candidates, float temperature);

// Temperature then top-k straight from a full row, reading each logit about once: the k highest
// of row[i] / temperature, and every token tied with the k-th (as HF keeps ties). k <= 0 or
// k >= |row| keeps every unmasked token. Exactly the tokens and values that dividing the whole
// row and then running a full-row top-k would leave. `scratch` is reused between calls.
void select_top_k(std::span<const float> row, float temperature, int32_t k, CandidateTokens& out,
                  std::vector<float>& scratch);

// Nucleus: keeps, in order of decreasing probability (ties: lower id first), every token whose
// higher-probability predecessors hold less than `p` of the mass (so at least one survives).
void apply_top_p(CandidateTokens& candidates, float p);

// Locally typical sampling (Meister et al., HF TypicalLogitsWarper): sorts tokens by
// |-log p - H| ascending and keeps them up to and including the first whose cumulative
// probability reaches `p`.
void apply_typical_p(CandidateTokens& candidates, float p);

// Keeps tokens whose probability is at least min_p times the most likely token's.
void apply_min_p(CandidateTokens& candidates, float min_p);

// The n most likely candidates as (id, logit - lse), best first (ties: lower id first);
// candidates tied with the n-th are included (TGI may return more than n on ties).
std::vector<std::pair<int32_t, float>> best_candidates(const CandidateTokens& candidates, int32_t n,
                                                       float lse);

// --- the same filters on a full row, in place ----------------------------------------------

void apply_temperature(std::span<float> logits, float temperature);
// Keeps the k highest logits (ties with the k-th are kept, as HF does).
void apply_top_k(std::span<float> logits, int32_t k);
void apply_top_p(std::span<float> logits, float p);
void apply_typical_p(std::span<float> logits, float p);
void apply_min_p(std::span<float> logits, float min_p);

// --- reductions over a row -----------------------------------------------------------------

// log-sum-exp of a row, for log_softmax(x)[i] = x[i] - log_sum_exp(x). By definition
// max + float(log Σ exp(double(x) - max)) with libm's exp, summed in double in index order: the
// arithmetic every sampling decision (top-p and typical-p masses, the draw) has always used, so a
// seed keeps giving the same tokens. Returns exactly that float, computed with a vectorized exp
// and an error bound; the libm loop runs only for the rare row whose rounding the bound leaves
// open (and for rows holding NaN or +infinity).
float log_sum_exp(std::span<const float> logits);

// The draw: the first i at which Σ_{j<=i} exp(double(logits[j]) - lse), with libm's exp summed
// in index order, exceeds u; the last index when none does. `logits` is non-empty and holds no
// masked entry. Exactly that index, computed the way log_sum_exp() is.
size_t inverse_cdf_index(std::span<const float> logits, float lse, double u);

// The greedy token and the row's log-sum-exp in one pass over the row, vectorized: the argmax
// (the lowest index among equal maxima; 0 for an empty or fully masked row) and a log-sum-exp
// within ~1e-6 of log_sum_exp() (-infinity when every entry is). For reported logprobs only:
// no token choice may depend on its last bits.
struct ArgmaxLogSumExp {
  int32_t argmax = 0;
  float log_sum_exp = 0.0f;
};
ArgmaxLogSumExp argmax_and_log_sum_exp(std::span<const float> logits);

// The n best entries of a full row as (id, logit - lse), as best_candidates() orders them;
// masked entries never appear. Reads the row about once.
std::vector<std::pair<int32_t, float>> best_of_row(std::span<const float> logits, int32_t n, float lse,
                                                   CandidateTokens& scratch_candidates,
                                                   std::vector<float>& scratch);

// Softmax probabilities of a row (masked tokens get 0).
std::vector<float> softmax(std::span<const float> logits);

}  // namespace tgi::engine
