#pragma once
// Logits processors, each a pure function over one row of logits (in place). A token removed by
// a filter gets -infinity. Definitions follow Hugging Face transformers (what TGI runs) unless
// noted; see the comments for each.
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace tgi::engine {

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

void apply_temperature(std::span<float> logits, float temperature);

// Keeps the k highest logits (ties with the k-th are kept, as HF does).
void apply_top_k(std::span<float> logits, int32_t k);

// Nucleus: keeps, in order of decreasing probability, every token whose higher-probability
// predecessors hold less than `p` of the mass (so at least one token survives).
void apply_top_p(std::span<float> logits, float p);

// Locally typical sampling (Meister et al., HF TypicalLogitsWarper): sorts tokens by
// |-log p - H| ascending and keeps them up to and including the first whose cumulative
// probability reaches `p`.
void apply_typical_p(std::span<float> logits, float p);

// Keeps tokens whose probability is at least min_p times the most likely token's.
void apply_min_p(std::span<float> logits, float min_p);

// Kirchenbauer et al. watermark as TGI applies it: the green list is the first gamma·|V| entries
// of a vocabulary permutation seeded by hash_key·previous_token; green logits get +delta.
constexpr float kWatermarkGamma = 0.5f;
constexpr float kWatermarkDelta = 2.0f;
constexpr uint64_t kWatermarkHashKey = 15485863;
std::vector<int32_t> watermark_greenlist(int32_t vocab_size, int32_t previous_token,
                                         float gamma = kWatermarkGamma);
void apply_watermark(std::span<float> logits, int32_t previous_token,
                     float gamma = kWatermarkGamma, float delta = kWatermarkDelta);

// Softmax probabilities of a row (masked tokens get 0).
std::vector<float> softmax(std::span<const float> logits);
// log-sum-exp of a row, for log_softmax(x)[i] = x[i] - log_sum_exp(x).
float log_sum_exp(std::span<const float> logits);

}  // namespace tgi::engine
