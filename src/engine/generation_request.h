#pragma once
// What the server hands the engine: token ids plus validated parameters (TGI names, spec §1.3).
// The server has already validated every field; the engine trusts these values.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "grammar/grammar.h"

namespace tgi::engine {

struct SamplingParams {
  bool do_sample = false;
  float temperature = 1.0f;
  int32_t top_k = 0;               // 0: disabled
  float top_p = 1.0f;              // 1: disabled
  float typical_p = 1.0f;          // 1: disabled
  float min_p = 0.0f;              // 0: disabled (OpenAI-style extension)
  float repetition_penalty = 1.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::optional<uint64_t> seed;    // none: the engine draws one and reports it
  bool watermark = false;
  std::vector<std::pair<int32_t, float>> logit_bias;
};

struct StoppingParams {
  int32_t max_new_tokens = 100;
  std::vector<std::string> stop_sequences;
  bool ignore_eos = false;
};

struct GenerationRequest {
  std::string request_id;          // for logs
  std::vector<int32_t> input_ids;  // already truncated per `truncate`
  SamplingParams sampling;
  StoppingParams stopping;
  int32_t top_n_tokens = 0;        // alternatives reported per generated token
  bool decoder_input_details = false;  // prompt logprobs
  int32_t best_of = 1;
  // Structured output: every generated token keeps the text a prefix of one of this grammar's
  // sentences, and EOS is allowed exactly when the text is a whole sentence.
  std::shared_ptr<const grammar::Grammar> grammar;
};

}  // namespace tgi::engine
