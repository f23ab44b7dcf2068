#include "golden.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include <gtest/gtest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "formats/safetensors.h"

namespace tgi::model::testing {

Golden load_golden(const std::string& name) {
  Golden g;
  std::ifstream in(kModelsDir / name / "golden.json");
  const auto j = nlohmann::json::parse(in);
  for (const auto& p : j.at("prompts")) {
    GoldenPrompt gp;
    gp.ids = p.at("ids").get<std::vector<int32_t>>();
    for (const auto& lp : p.at("prompt_logprobs"))
      gp.prompt_logprobs.push_back(lp.is_null() ? std::nullopt : std::optional<double>(lp.get<double>()));
    gp.top5_ids = p.at("top5_ids").get<std::vector<std::vector<int32_t>>>();
    gp.top5_logprobs = p.at("top5_logprobs").get<std::vector<std::vector<double>>>();
    gp.greedy_ids = p.at("greedy_ids").get<std::vector<int32_t>>();
    gp.greedy_margins = p.at("greedy_margins").get<std::vector<double>>();
    gp.greedy_logprobs = p.at("greedy_logprobs").get<std::vector<double>>();
    g.prompts.push_back(std::move(gp));
  }
  auto file = formats::SafetensorsFile::open(kModelsDir / name / "golden.safetensors");
  EXPECT_TRUE(file.ok()) << file.error().message;
  if (!file.ok()) return g;
  auto read = [&](const std::string& tensor) {
    std::vector<float> v;
    const formats::TensorView* t = (*file)->find(tensor);
    if (t == nullptr || t->dtype != formats::DType::kF32) return v;
    v.resize(static_cast<size_t>(t->num_elements()));
    std::memcpy(v.data(), t->data, v.size() * sizeof(float));
    return v;
  };
  for (size_t i = 0; i < g.prompts.size(); ++i) g.prompts[i].last_logits = read(fmt::format("p{}.last_logits", i));
  for (int layer = 0;; ++layer) {
    auto h = read(fmt::format("p0.hidden_states.{}", layer));
    if (h.empty()) break;
    g.p0_hidden_states.push_back(std::move(h));
  }
  return g;
}

std::vector<double> log_softmax(const float* logits, int64_t n) {
  double max = logits[0];
  for (int64_t i = 1; i < n; ++i) max = std::max(max, static_cast<double>(logits[i]));
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(logits[i]) - max);
  const double log_z = max + std::log(sum);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = logits[i] - log_z;
  return out;
}

PromptRun run_prompt(CausalLm& model, const std::vector<int32_t>& ids, int new_tokens, int32_t block_size,
                     int32_t chunk) {
  PromptRun run;
  const int64_t V = model.vocab_size();
  const auto total = static_cast<int32_t>(ids.size()) + new_tokens;
  const int32_t num_blocks = (total + block_size - 1) / block_size;
  auto cache = model.allocate_kv_cache(num_blocks + 1, block_size);
  // Use the blocks in reverse order so that block ids differ from logical block indexes.
  std::vector<int32_t> table;
  for (int32_t b = num_blocks; b >= 1; --b) table.push_back(b);

  std::vector<float> logits;
  const auto prompt_len = static_cast<int32_t>(ids.size());
  const int32_t step = chunk > 0 ? chunk : prompt_len;
  for (int32_t start = 0; start < prompt_len; start += step) {
    const int32_t len = std::min(step, prompt_len - start);
    std::vector<int32_t> tokens(ids.begin() + start, ids.begin() + start + len), positions;
    for (int32_t i = 0; i < len; ++i) positions.push_back(start + i);
    SequenceInBatch seq{0, len, start, table, LogitsWanted::kAll};
    Batch batch{tokens, positions, std::span<const SequenceInBatch>(&seq, 1)};
    logits.assign(static_cast<size_t>(len) * V, 0.0f);
    auto r = model.forward(batch, *cache, logits);
    EXPECT_TRUE(r.ok()) << r.error().message;
    for (int32_t i = 0; i < len; ++i) run.prompt_logits.emplace_back(logits.begin() + i * V, logits.begin() + (i + 1) * V);
  }
  std::vector<float> last = run.prompt_logits.back();
  for (int step_i = 0; step_i < new_tokens; ++step_i) {
    const auto lp = log_softmax(last.data(), V);
    std::vector<int64_t> order(static_cast<size_t>(V));
    for (int64_t i = 0; i < V; ++i) order[i] = i;
    std::partial_sort(order.begin(), order.begin() + 2, order.end(), [&](int64_t a, int64_t b) { return lp[a] > lp[b]; });
    const auto next = static_cast<int32_t>(order[0]);
    run.generated.push_back(next);
    run.generated_logprobs.push_back(lp[order[0]]);
    run.generated_margins.push_back(lp[order[0]] - lp[order[1]]);
    if (step_i + 1 == new_tokens) break;
    const int32_t pos = prompt_len + step_i;
    std::vector<int32_t> tokens{next}, positions{pos};
    SequenceInBatch seq{0, 1, pos, table, LogitsWanted::kLast};
    Batch batch{tokens, positions, std::span<const SequenceInBatch>(&seq, 1)};
    last.assign(static_cast<size_t>(V), 0.0f);
    auto r = model.forward(batch, *cache, last);
    EXPECT_TRUE(r.ok()) << r.error().message;
  }
  return run;
}

Deviation compare(const GoldenPrompt& g, const PromptRun& run, int64_t vocab, double margin_floor) {
  Deviation d;
  const auto& last = run.prompt_logits.back();
  for (size_t i = 0; i < last.size(); ++i) {
    d.logit = std::max(d.logit, std::abs(double{last[i]} - g.last_logits[i]));
    d.logit_scale = std::max(d.logit_scale, std::abs(double{g.last_logits[i]}));
  }
  for (size_t pos = 1; pos < g.ids.size(); ++pos) {
    if (!g.prompt_logprobs[pos]) continue;
    const double lp = log_softmax(run.prompt_logits[pos - 1].data(), vocab)[g.ids[pos]];
    d.logprob = std::max(d.logprob, std::abs(lp - *g.prompt_logprobs[pos]));
  }
  for (size_t i = 0; i < g.greedy_ids.size() && i < run.generated.size(); ++i) {
    if (run.generated[i] != g.greedy_ids[i]) {
      d.greedy_diverged_with_margin = g.greedy_margins[i] > margin_floor;
      d.greedy_margin_at_divergence = g.greedy_margins[i];
      break;  // a near-tie took another path; what follows is a different continuation
    }
    d.logprob = std::max(d.logprob, std::abs(run.generated_logprobs[i] - g.greedy_logprobs[i]));
  }
  return d;
}

double correlation(const std::vector<float>& a, const std::vector<float>& b) {
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= static_cast<double>(a.size());
  mb /= static_cast<double>(b.size());
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) * (a[i] - ma);
    bb += (b[i] - mb) * (b[i] - mb);
  }
  return ab / std::sqrt(aa * bb);
}

}  // namespace tgi::model::testing
