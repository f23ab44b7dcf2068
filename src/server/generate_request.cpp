#include "server/generate_request.h"

#include <algorithm>

#include <fmt/format.h>

#include "server/grammar_request.h"
#include "server/json_fields.h"

namespace tgi::server {

namespace {

Error invalid(std::string message) { return Error{ErrorKind::kValidation, std::move(message)}; }

constexpr int64_t kMaxTokensPerSchedule = 1024;  // TGI's per-schedule chunk (spec §1.5)

}  // namespace

Result<GenerateParameters> parse_generate_parameters(const json& value, const std::string& path) {
  if (!value.is_object()) {
    return shape_error(path, fmt::format("invalid type: {}, expected struct GenerateParameters",
                                         describe_json_value(value)));
  }
  GenerateParameters p;
  TGI_ASSIGN_OR_RETURN(p.best_of, read_field<uint64_t>(value, path, "best_of"));
  TGI_ASSIGN_OR_RETURN(p.temperature, read_field<float>(value, path, "temperature"));
  TGI_ASSIGN_OR_RETURN(p.repetition_penalty, read_field<float>(value, path, "repetition_penalty"));
  TGI_ASSIGN_OR_RETURN(p.frequency_penalty, read_field<float>(value, path, "frequency_penalty"));
  TGI_ASSIGN_OR_RETURN(p.top_k, read_field<int32_t>(value, path, "top_k"));
  TGI_ASSIGN_OR_RETURN(p.top_p, read_field<float>(value, path, "top_p"));
  TGI_ASSIGN_OR_RETURN(p.typical_p, read_field<float>(value, path, "typical_p"));
  TGI_ASSIGN_OR_RETURN(auto do_sample, read_field<bool>(value, path, "do_sample", false));
  p.do_sample = do_sample.value_or(false);
  TGI_ASSIGN_OR_RETURN(p.max_new_tokens, read_field<uint32_t>(value, path, "max_new_tokens"));
  TGI_ASSIGN_OR_RETURN(p.return_full_text, read_field<bool>(value, path, "return_full_text"));
  TGI_ASSIGN_OR_RETURN(auto stop, read_field<std::vector<std::string>>(value, path, "stop", false));
  p.stop = stop.value_or(std::vector<std::string>{});
  TGI_ASSIGN_OR_RETURN(p.truncate, read_field<uint64_t>(value, path, "truncate"));
  TGI_ASSIGN_OR_RETURN(auto watermark, read_field<bool>(value, path, "watermark", false));
  p.watermark = watermark.value_or(false);
  TGI_ASSIGN_OR_RETURN(auto details, read_field<bool>(value, path, "details", false));
  p.details = details.value_or(false);
  TGI_ASSIGN_OR_RETURN(auto prompt_details, read_field<bool>(value, path, "decoder_input_details", false));
  p.decoder_input_details = prompt_details.value_or(false);
  TGI_ASSIGN_OR_RETURN(p.seed, read_field<uint64_t>(value, path, "seed"));
  TGI_ASSIGN_OR_RETURN(p.top_n_tokens, read_field<uint32_t>(value, path, "top_n_tokens"));
  TGI_ASSIGN_OR_RETURN(p.grammar, read_field<json>(value, path, "grammar"));
  TGI_ASSIGN_OR_RETURN(p.adapter_id, read_field<std::string>(value, path, "adapter_id"));
  return p;
}

Result<GenerateRequest> parse_generate_request(const json& body) {
  if (!body.is_object()) {
    return shape_error("", fmt::format("invalid type: {}, expected struct GenerateRequest",
                                       describe_json_value(body)));
  }
  GenerateRequest request;
  TGI_ASSIGN_OR_RETURN(request.inputs, read_required<std::string>(body, "", "inputs"));
  auto parameters = body.find("parameters");
  if (parameters == body.end()) {
    request.parameters.do_sample = true;  // TGI's built-in default set when `parameters` is absent
  } else {
    TGI_ASSIGN_OR_RETURN(request.parameters, parse_generate_parameters(*parameters, "parameters"));
  }
  TGI_ASSIGN_OR_RETURN(auto stream, read_field<bool>(body, "", "stream", false));
  request.stream = stream.value_or(false);
  return request;
}

Result<void> validate_best_of_and_stream(const GenerateParameters& p, bool stream,
                                         const ValidationLimits& limits) {
  if (stream) {
    if (p.best_of && *p.best_of != 1) return invalid("`best_of` != 1 is not supported when streaming tokens");
    if (p.decoder_input_details)
      return invalid("`decoder_input_details` == true is not supported when streaming tokens");
    return {};
  }
  if (p.best_of) {
    if (limits.max_best_of == 1 && *p.best_of != 1) return invalid("`best_of` != 1 is not allowed for this endpoint");
    if (static_cast<int64_t>(*p.best_of) > limits.max_best_of)
      return invalid(fmt::format("`best_of` must be > 0 and <= {}. Given: {}", limits.max_best_of, *p.best_of));
  }
  return {};
}

Result<ValidatedRequest> validate_generate(const std::string& inputs, const GenerateParameters& p,
                                           bool add_special_tokens, const ValidationLimits& limits,
                                           const Backend& backend) {
  const int64_t best_of = p.best_of ? std::max<int64_t>(1, static_cast<int64_t>(*p.best_of)) : 1;
  const bool asks_sampling = p.do_sample || p.temperature || p.top_k || p.top_p || p.typical_p;
  if (best_of > 1 && !asks_sampling) return invalid("you must use sampling when `best_of` is > 1");

  const float temperature = p.temperature.value_or(1.0f);
  if (!(temperature > 0.0f)) return invalid("`temperature` must be strictly positive");
  const float repetition_penalty = p.repetition_penalty.value_or(1.0f);
  if (!(repetition_penalty > 0.0f)) return invalid("`repetition_penalty` must be strictly positive");
  const float frequency_penalty = p.frequency_penalty.value_or(0.0f);
  if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f))
    return invalid("`frequency_penalty` must be >= -2.0 and <= 2.0");
  if (p.top_p && !(*p.top_p > 0.0f && *p.top_p < 1.0f)) return invalid("`top_p` must be > 0.0 and < 1.0");
  if (p.typical_p && !(*p.typical_p > 0.0f && *p.typical_p < 1.0f))
    return invalid("`typical_p` must be > 0.0 and < 1.0");
  if (p.top_k && *p.top_k <= 0) return invalid("`top_k` must be strictly positive");
  if (p.max_new_tokens && *p.max_new_tokens == 0) return invalid("`max_new_tokens` must be strictly positive");
  if (static_cast<int64_t>(p.stop.size()) > limits.max_stop_sequences)
    return invalid(fmt::format("`stop` supports up to {} stop sequences. Given: {}", limits.max_stop_sequences,
                               p.stop.size()));
  if (best_of > 1 && p.seed) return invalid("`seed` must not be set when `best_of` > 1");
  const int64_t top_n_tokens = p.top_n_tokens.value_or(0);
  if (top_n_tokens > limits.max_top_n_tokens)
    return invalid(fmt::format("`top_n_tokens` must be >= 0 and <= {}. Given: {}", limits.max_top_n_tokens,
                               top_n_tokens));
  if (inputs.empty()) return invalid("`inputs` cannot be empty");
  if (p.truncate && (*p.truncate == 0 || static_cast<int64_t>(*p.truncate) > limits.max_input_tokens))
    return invalid(fmt::format("`truncate` must be strictly positive and less than {}. Given: {}",
                               limits.max_input_tokens, *p.truncate));

  auto encoding = backend.tokenize(inputs, add_special_tokens);
  if (!encoding.ok()) return invalid("tokenizer error " + encoding.error().message);
  std::vector<int32_t> ids = std::move(encoding->ids);
  if (p.truncate && ids.size() > *p.truncate) ids.erase(ids.begin(), ids.end() - static_cast<ptrdiff_t>(*p.truncate));
  const int64_t input_length = static_cast<int64_t>(ids.size());

  const int64_t target = p.max_new_tokens ? static_cast<int64_t>(*p.max_new_tokens)
                                          : std::max<int64_t>(0, limits.max_total_tokens - input_length);
  const int64_t chunk = std::min(target, kMaxTokensPerSchedule);
  if (input_length + chunk > limits.max_total_tokens)
    return invalid(fmt::format(
        "`inputs` tokens + `max_new_tokens` must be <= {}. Given: {} `inputs` tokens and {} `max_new_tokens`",
        limits.max_total_tokens, input_length, chunk));
  if (input_length > limits.max_input_tokens)
    return invalid(fmt::format("`inputs` must have less than {} tokens. Given: {}", limits.max_input_tokens,
                               input_length));
  if ((p.grammar || p.constraint) && !limits.grammar_supported) return invalid("grammar is not supported");
  std::shared_ptr<const grammar::Grammar> constraint;
  if (p.constraint) {
    TGI_ASSIGN_OR_RETURN(constraint, compile_grammar_spec(*p.constraint));
  } else if (p.grammar) {
    TGI_ASSIGN_OR_RETURN(constraint, compile_grammar_type(*p.grammar));
  }

  ValidatedRequest v;
  v.input_length = input_length;
  // One schedule generates the whole target, capped so prompt + output fits max_total_tokens
  // (TGI reaches the same cap through its 1024-token continuations; docs/compatibility.md).
  v.max_new_tokens = std::min(target, limits.max_total_tokens - input_length);
  v.sampling = p.do_sample || temperature != 1.0f || p.top_k.value_or(0) != 0 || p.top_p.value_or(1.0f) < 1.0f ||
               p.typical_p.value_or(1.0f) < 1.0f;
  v.inputs = inputs;
  v.return_full_text = p.return_full_text.value_or(false);
  v.details = p.details;
  v.decoder_input_details = p.decoder_input_details;
  v.best_of = best_of;

  engine::GenerationRequest& r = v.engine_request;
  r.input_ids = std::move(ids);
  r.sampling.do_sample = v.sampling;
  r.sampling.temperature = temperature;
  r.sampling.top_k = p.top_k.value_or(0);
  r.sampling.top_p = p.top_p.value_or(1.0f);
  r.sampling.typical_p = p.typical_p.value_or(1.0f);
  r.sampling.repetition_penalty = repetition_penalty;
  r.sampling.frequency_penalty = frequency_penalty;
  r.sampling.seed = p.seed;
  r.sampling.watermark = p.watermark;
  r.sampling.logit_bias = p.logit_bias;
  r.stopping.max_new_tokens = static_cast<int32_t>(v.max_new_tokens);
  r.stopping.stop_sequences = p.stop;
  r.top_n_tokens = static_cast<int32_t>(top_n_tokens);
  r.decoder_input_details = p.decoder_input_details;
  r.best_of = static_cast<int32_t>(best_of);  // the engine runs the n candidates and picks the winner
  r.grammar = std::move(constraint);
  return v;
}

}  // namespace tgi::server
