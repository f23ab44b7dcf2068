#pragma once
// TGI's GenerateRequest (spec §1.3): parsing with serde-like shape errors, then validation in TGI's
// exact order with TGI's exact messages (§1.4), producing an engine::GenerationRequest.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/generation_request.h"
#include "grammar/constraint.h"
#include "server/backend.h"
#include "server/server_config.h"

namespace tgi::server {

struct GenerateParameters {
  std::optional<uint64_t> best_of;
  std::optional<float> temperature;
  std::optional<float> repetition_penalty;
  std::optional<float> frequency_penalty;
  std::optional<int32_t> top_k;
  std::optional<float> top_p;
  std::optional<float> typical_p;
  bool do_sample = false;
  std::optional<uint32_t> max_new_tokens;
  std::optional<bool> return_full_text;
  std::vector<std::string> stop;
  std::optional<uint64_t> truncate;
  bool watermark = false;
  bool details = false;
  bool decoder_input_details = false;
  std::optional<uint64_t> seed;
  std::optional<uint32_t> top_n_tokens;
  std::optional<nlohmann::ordered_json> grammar;
  // A constraint the server chose itself (a forced tool call); used instead of `grammar`.
  std::optional<grammar::ConstraintSpec> constraint;
  std::optional<std::string> adapter_id;
  std::vector<std::pair<int32_t, float>> logit_bias;  // OpenAI's token id → bias (chat only)
};

struct GenerateRequest {
  std::string inputs;
  GenerateParameters parameters;
  bool stream = false;  // compat route `/` only
};

// Parses the body of /generate, /generate_stream, /tokenize and (with `stream`) compat `/`.
// Errors are shape errors: the caller answers 422 "Failed to deserialize the JSON body ...".
Result<GenerateRequest> parse_generate_request(const nlohmann::ordered_json& body);
Result<GenerateParameters> parse_generate_parameters(const nlohmann::ordered_json& value, const std::string& path);

// A request that passed validation: what the engine runs plus what the response needs.
struct ValidatedRequest {
  engine::GenerationRequest engine_request;
  int64_t input_length = 0;
  int64_t max_new_tokens = 0;     // overall target (§1.5)
  bool sampling = false;          // whether sampling is effective (decides details.seed)
  std::string inputs;             // original inputs, for return_full_text
  bool return_full_text = false;
  bool details = false;
  bool decoder_input_details = false;
  int64_t best_of = 1;
};

// Checks #0a–#0d: the ones TGI runs in the route before general validation.
Result<void> validate_best_of_and_stream(const GenerateParameters& parameters, bool stream,
                                         const ValidationLimits& limits);

// Checks #1–#18 in order, tokenizing through `backend`. Errors are kValidation with the message
// that follows "Input validation error: ".
Result<ValidatedRequest> validate_generate(const std::string& inputs, const GenerateParameters& parameters,
                                           bool add_special_tokens, const ValidationLimits& limits,
                                           const Backend& backend);

}  // namespace tgi::server
