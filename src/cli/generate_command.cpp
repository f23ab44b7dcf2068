// `tgi generate`: greedy decoding straight through the model (no engine, no server) — a
// debugging tool and a test driver that prints prompt logprobs and top-n alternatives.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backend/load_quantization.h"
#include "cli/commands.h"
#include "engine/ngram_proposer.h"
#include "model/causal_lm.h"
#include "server/model_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace tgi::cli {
namespace {

struct GenerateFlags {
  std::string model_dir;
  std::string prompt;
  std::string input_ids;
  int max_new_tokens = 20;
  int top_n = 5;
  int num_threads = 0;
  std::string quantize;  // "": weights as stored
  bool json = false;
  bool ignore_eos = false;
  int speculate = 0;  // n-gram proposals verified per forward (greedy: the same tokens, fewer steps)
};

[[noreturn]] void fail(const std::string& message, int code = 1) {
  fmt::print(stderr, "tgi generate: {}\n", message);
  throw CLI::RuntimeError(code);
}

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b == std::string::npos) fail(fmt::format("--input-ids: empty entry in '{}'", text), 2);
    item = item.substr(b, e - b + 1);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || v < 0 || v > INT32_MAX) fail(fmt::format("--input-ids: '{}' is not a token id", item), 2);
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

std::vector<double> log_softmax(std::span<const float> logits) {
  const double max = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (float l : logits) sum += std::exp(double{l} - max);
  const double log_z = max + std::log(sum);
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - log_z;
  return out;
}

std::vector<int32_t> top_ids(const std::vector<double>& lp, int n) {
  std::vector<int32_t> order(lp.size());
  for (size_t i = 0; i < lp.size(); ++i) order[i] = static_cast<int32_t>(i);
  n = std::min<int>(n, static_cast<int>(order.size()));
  std::partial_sort(order.begin(), order.begin() + n, order.end(), [&](int32_t a, int32_t b) {
    return lp[a] > lp[b] || (lp[a] == lp[b] && a < b);
  });
  order.resize(static_cast<size_t>(n));
  return order;
}

void run(const GenerateFlags& f) {
  if (f.prompt.empty() == f.input_ids.empty()) fail("give exactly one of --prompt TEXT or --input-ids 1,2,3", 2);
  if (f.max_new_tokens < 0 || f.top_n < 0) fail("--max-new-tokens and --top-n must not be negative", 2);
  if (f.speculate < 0 || f.speculate > 16) fail("--speculate must be between 0 and 16", 2);

  std::unique_ptr<tokenizer::Tokenizer> tok;
  std::vector<int32_t> ids;
  if (!f.prompt.empty()) {
    auto t = server::load_model_tokenizer(f.model_dir);
    if (!t.ok()) fail(t.error().message);
    tok = std::move(*t);
    auto enc = tok->encode(f.prompt, true);
    if (!enc.ok()) fail(enc.error().message);
    ids = enc->ids;
  } else {
    ids = parse_ids(f.input_ids);
  }
  if (ids.empty()) fail("the prompt has no tokens", 2);

  model::LoadOptions options;
  options.num_threads = f.num_threads;
  if (!f.quantize.empty()) {
    auto format = backend::parse_load_quantization(f.quantize);
    if (!format.ok()) fail(format.error().message, 2);
    options.quantize = *format;
  }
  auto loaded = model::load_causal_lm(f.model_dir, options);
  if (!loaded.ok()) fail(loaded.error().message);
  model::CausalLm& lm = **loaded;
  const int64_t vocab = lm.vocab_size();

  constexpr int32_t kBlockSize = 16;
  const auto total = static_cast<int64_t>(ids.size()) + f.max_new_tokens;
  const auto num_blocks = static_cast<int32_t>((total + kBlockSize - 1) / kBlockSize);
  auto cache = lm.allocate_kv_cache(num_blocks, kBlockSize);
  std::vector<int32_t> table(static_cast<size_t>(num_blocks));
  for (int32_t b = 0; b < num_blocks; ++b) table[b] = b;

  // Prefill with every row's logits (prompt logprobs), then one token per step.
  const auto prompt_len = static_cast<int32_t>(ids.size());
  std::vector<int32_t> positions(ids.size());
  for (int32_t i = 0; i < prompt_len; ++i) positions[i] = i;
  std::vector<float> logits(static_cast<size_t>(prompt_len) * vocab);
  model::SequenceInBatch seq{0, prompt_len, 0, table, model::LogitsWanted::kAll};
  model::Batch batch{ids, positions, std::span<const model::SequenceInBatch>(&seq, 1)};
  if (auto r = lm.forward(batch, *cache, logits); !r.ok()) fail(r.error().message);

  nlohmann::json prompt_logprobs = nlohmann::json::array({nullptr});
  nlohmann::json prompt_top = nlohmann::json::array();
  std::vector<double> lp;
  for (int32_t row = 0; row < prompt_len; ++row) {
    lp = log_softmax(std::span<const float>(logits).subspan(static_cast<size_t>(row) * vocab, vocab));
    if (row + 1 < prompt_len) prompt_logprobs.push_back(lp[ids[row + 1]]);
    nlohmann::json top = nlohmann::json::array();
    for (int32_t id : top_ids(lp, f.top_n)) top.push_back({id, lp[id]});
    prompt_top.push_back(std::move(top));
  }
  const auto last_row = std::span<const float>(logits).subspan(static_cast<size_t>(prompt_len - 1) * vocab, vocab);
  const float last_max = *std::max_element(last_row.begin(), last_row.end());

  // Greedy decoding; with --speculate each forward also verifies prompt-lookup proposals, kept
  // while they are what greedy picks anyway (the engine's rule, engine/speculation.h).
  const auto& eos = lm.config().eos_token_ids;
  std::vector<int32_t> generated;
  std::vector<double> generated_logprobs;
  std::vector<int32_t> context = ids;  // prompt, then generated
  const engine::NgramProposer proposer;
  std::vector<int32_t> proposal;
  int forwards = 0;
  // Appends greedy's pick from `lp`; false when generation is over.
  auto take = [&](int32_t next) {
    generated.push_back(next);
    generated_logprobs.push_back(lp[next]);
    context.push_back(next);
    if (!f.ignore_eos && std::find(eos.begin(), eos.end(), next) != eos.end()) return false;
    return static_cast<int>(generated.size()) < f.max_new_tokens;
  };
  bool going = f.max_new_tokens > 0 && take(top_ids(lp, 1)[0]);
  while (going) {
    const int room = f.max_new_tokens - static_cast<int>(generated.size()) - 1;
    const int proposed =
        f.speculate > 0 ? proposer.propose(context, std::min(f.speculate, room), proposal) : 0;
    const auto first = static_cast<int32_t>(context.size()) - 1;  // the last pick's position
    std::vector<int32_t> tokens{context.back()}, pos_v{first};
    for (int r = 0; r < proposed; ++r) {
      tokens.push_back(proposal[r]);
      pos_v.push_back(first + 1 + r);
    }
    std::vector<float> step_logits(tokens.size() * static_cast<size_t>(vocab));
    model::SequenceInBatch s{0, static_cast<int32_t>(tokens.size()), first, table,
                             proposed > 0 ? model::LogitsWanted::kAll : model::LogitsWanted::kLast};
    model::Batch b{tokens, pos_v, std::span<const model::SequenceInBatch>(&s, 1)};
    if (auto r = lm.forward(b, *cache, step_logits); !r.ok()) fail(r.error().message);
    ++forwards;
    for (int r = 0; going && r <= proposed; ++r) {
      lp = log_softmax(std::span<const float>(step_logits).subspan(static_cast<size_t>(r) * vocab, vocab));
      const int32_t next = top_ids(lp, 1)[0];
      going = take(next);
      if (r == proposed || next != proposal[r]) break;
    }
  }

  if (f.json) {
    nlohmann::json out;
    out["input_ids"] = ids;
    out["prompt_logprobs"] = prompt_logprobs;
    out["prompt_top"] = prompt_top;
    out["generated_ids"] = generated;
    out["generated_logprobs"] = generated_logprobs;
    out["last_prompt_logits_max"] = last_max;
    out["decode_forwards"] = forwards;
    if (tok) out["generated_text"] = tok->decode(generated, false);
    std::cout << out.dump() << "\n";
    return;
  }
  fmt::print("input_ids: {}\n", nlohmann::json(ids).dump());
  fmt::print("generated_ids: {}\n", nlohmann::json(generated).dump());
  if (tok) fmt::print("generated_text: {}\n", tok->decode(generated, false));
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto flags = std::make_shared<GenerateFlags>();
  auto* cmd = app.add_subcommand("generate", "Greedy generation from a prompt or token ids (debugging)");
  cmd->add_option("--model-id", flags->model_dir, "Model directory (config.json + safetensors) or .gguf file")->required();
  cmd->add_option("--prompt", flags->prompt, "Prompt text (tokenized with the model's tokenizer.json)");
  cmd->add_option("--input-ids", flags->input_ids, "Comma-separated prompt token ids, e.g. 1,2,3");
  cmd->add_option("--max-new-tokens", flags->max_new_tokens, "Tokens to generate (default 20)");
  cmd->add_option("--top-n", flags->top_n, "Alternatives per prompt position in prompt_top (default 5)");
  cmd->add_option("--num-threads", flags->num_threads, "Worker threads (default: all cores)");
  cmd->add_option("--quantize", flags->quantize, "Quantize float projection weights at load: q8_0, q4_0 or q4_k")
      ->check(CLI::IsMember({"q8_0", "q4_0", "q4_k"}));
  cmd->add_flag("--json", flags->json, "Print one JSON object with ids, logprobs and top-n alternatives");
  cmd->add_flag("--ignore-eos", flags->ignore_eos, "Keep generating past the end-of-sequence token");
  cmd->add_option("--speculate", flags->speculate,
                  "Verify up to N n-gram (prompt lookup) proposals per forward; the tokens stay the same");
  cmd->callback([flags] { run(*flags); });
}

}  // namespace tgi::cli
