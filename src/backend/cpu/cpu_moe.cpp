// Mixture-of-experts on the CPU. Tokens are grouped by expert so each expert's weights are read
// once per step, however many tokens chose it. Per token, contributions are summed in ascending
// expert order (then the shared expert), so the result does not depend on the rest of the batch.
#include <algorithm>
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "core/scratch.h"

namespace tgi::backend::cpu {

void CpuBackend::moe(const MoeOp& op) {
  const int64_t T = op.rows, H = op.router.cols(), E = op.router.rows(), K = op.top_k;
  const float* x = op.x;
  float* out = op.out;
  float* logits = grow(router_logits_, T * E);
  kernels::matmul(x, T, *op.router.weight, op.router.bias, logits, pool_);

  // Route: per token the top-K experts and their weights, then a counting sort by expert.
  int32_t* chosen = grow(chosen_expert_, T * K);
  float* chosen_weight = grow(chosen_weight_, T * K);
  int32_t* count = grow(expert_count_, E + 1);
  std::fill(count, count + E + 1, 0);
  std::vector<float>& probs = probs_;
  probs.resize(static_cast<size_t>(E));
  for (int64_t t = 0; t < T; ++t) {
    const float* l = logits + t * E;
    if (op.scoring == RouterScoring::kSoftmax) {
      const float max = *std::max_element(l, l + E);
      double z = 0.0;
      for (int64_t e = 0; e < E; ++e) z += std::exp(double{l[e]} - max);
      for (int64_t e = 0; e < E; ++e) probs[e] = static_cast<float>(std::exp(double{l[e]} - max) / z);
    } else {
      for (int64_t e = 0; e < E; ++e) probs[e] = 1.0f / (1.0f + std::exp(-l[e]));
    }
    // Choice scores: the probabilities, or (deepseek_v3) probabilities plus a correction bias,
    // restricted to the best groups of experts; the weights stay the uncorrected probabilities.
    std::vector<float>& choice = choice_;
    choice.assign(probs.begin(), probs.end());
    if (op.correction_bias != nullptr) {
      for (int64_t e = 0; e < E; ++e) choice[e] += op.correction_bias[e];
      const int64_t groups = std::max<int64_t>(op.n_group, 1), per_group = E / groups;
      if (groups > 1) {
        std::vector<float>& group_score = group_score_;
        group_score.assign(static_cast<size_t>(groups), 0.0f);
        for (int64_t g = 0; g < groups; ++g) {  // a group's score: its two best experts
          float first = -INFINITY, second = -INFINITY;
          for (int64_t e = g * per_group; e < (g + 1) * per_group; ++e) {
            if (choice[e] > first)
              second = first, first = choice[e];
            else if (choice[e] > second)
              second = choice[e];
          }
          group_score[g] = per_group > 1 ? first + second : first;
        }
        std::vector<char>& keep = group_keep_;
        keep.assign(static_cast<size_t>(groups), 0);
        for (int64_t k = 0; k < op.topk_group && k < groups; ++k) {
          int64_t best = -1;
          for (int64_t g = 0; g < groups; ++g)
            if (!keep[g] && (best < 0 || group_score[g] > group_score[best])) best = g;
          keep[best] = 1;
        }
        for (int64_t e = 0; e < E; ++e)
          if (!keep[e / per_group]) choice[e] = 0.0f;
      }
    }
    double picked_sum = 0.0;
    for (int64_t k = 0; k < K; ++k) {
      int64_t best = -1;
      for (int64_t e = 0; e < E; ++e) {
        bool taken = false;
        for (int64_t j = 0; j < k; ++j) taken |= chosen[t * K + j] == e;
        if (!taken && (best < 0 || choice[e] > choice[best])) best = e;  // ties: lowest index
      }
      chosen[t * K + k] = static_cast<int32_t>(best);
      chosen_weight[t * K + k] = probs[best];
      picked_sum += probs[best];
      ++count[best + 1];
    }
    if (op.normalize_top_k && picked_sum > 0.0)
      for (int64_t k = 0; k < K; ++k)
        chosen_weight[t * K + k] = static_cast<float>(chosen_weight[t * K + k] / picked_sum);
    if (op.routed_scaling != 1.0f)
      for (int64_t k = 0; k < K; ++k) chosen_weight[t * K + k] *= op.routed_scaling;
  }
  for (int64_t e = 0; e < E; ++e) count[e + 1] += count[e];  // count[e] = first slot of expert e
  int32_t* slot_token = grow(slot_token_, T * K);
  float* slot_weight = grow(slot_weight_, T * K);
  int32_t* fill = grow(expert_fill_, E);
  std::copy(count, count + E, fill);
  for (int64_t t = 0; t < T; ++t)  // ascending t within each expert
    for (int64_t k = 0; k < K; ++k) {
      const int32_t e = chosen[t * K + k];
      slot_token[fill[e]] = static_cast<int32_t>(t);
      slot_weight[fill[e]] = chosen_weight[t * K + k];
      ++fill[e];
    }

  std::fill(out, out + T * H, 0.0f);
  float* gathered = grow(expert_in_, T * H);
  float* expert_out = grow(expert_out_, T * H);
  for (int64_t e = 0; e < E; ++e) {
    const int32_t begin = count[e], n = count[e + 1] - count[e];
    if (n == 0) continue;
    const bool on_input = op.weight_on_input;
    for (int32_t i = 0; i < n; ++i) {
      const float* src = x + int64_t{slot_token[begin + i]} * H;
      float* dst = gathered + int64_t{i} * H;
      const float w = on_input ? slot_weight[begin + i] : 1.0f;
      for (int64_t d = 0; d < H; ++d) dst[d] = src[d] * w;
    }
    run_feed_forward({gathered, n}, op.experts[e], op.activation, expert_out);
    for (int32_t i = 0; i < n; ++i) {
      float* o = out + int64_t{slot_token[begin + i]} * H;
      const float w = on_input ? 1.0f : slot_weight[begin + i];
      const float* src = expert_out + int64_t{i} * H;
      for (int64_t d = 0; d < H; ++d) o[d] += w * src[d];
    }
  }
  if (op.shared.present()) {
    run_feed_forward({x, T}, op.shared, op.activation, expert_out);
    float* gate = grow(shared_gate_, T);
    if (op.shared_gate.present()) kernels::matmul(x, T, *op.shared_gate.weight, nullptr, gate, pool_);
    for (int64_t t = 0; t < T; ++t) {
      const float g = op.shared_gate.present() ? 1.0f / (1.0f + std::exp(-gate[t])) : 1.0f;
      for (int64_t d = 0; d < H; ++d) out[t * H + d] += g * expert_out[t * H + d];
    }
  }
}

}  // namespace tgi::backend::cpu
