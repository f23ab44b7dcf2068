#include "model/weight_loader.h"

#include "model/safetensors_tensor_source.h"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <immintrin.h>

namespace tgi::model {
namespace {

using kernels::WeightFormat;
using kernels::WeightView;

// Where each role lives in a checkpoint. Empty name: the architecture has no such tensor.
struct TensorNaming {
  std::string layer_prefix = "model.layers.{}.";
  std::string embed = "model.embed_tokens";
  std::string positions;  // gpt2 wpe
  std::string final_norm = "model.norm";
  std::string lm_head = "lm_head";
  std::string q = "self_attn.q_proj", k = "self_attn.k_proj", v = "self_attn.v_proj", o = "self_attn.o_proj";
  std::string qkv_fused;  // [q; k; v] rows in one matrix
  std::string q_norm = "self_attn.q_norm", k_norm = "self_attn.k_norm";
  std::string gate = "mlp.gate_proj", up = "mlp.up_proj", down = "mlp.down_proj";
  std::string gate_up_fused;  // [gate; up] rows in one matrix
  std::string attn_in = "input_layernorm", attn_out, mlp_in = "post_attention_layernorm", mlp_out;
  // Mixture of experts: router, per-expert prefix ({} = expert index), expert projections.
  std::string router = "mlp.gate", expert_prefix = "mlp.experts.{}.";
  std::string expert_gate = "gate_proj", expert_up = "up_proj", expert_down = "down_proj";
  std::string shared_expert, shared_expert_gate;
  // Experts stored as 3-D tensors [expert][in][out] (gpt_oss, llama4) instead of one matrix each.
  std::string stacked_gate_up, stacked_down;
  bool stacked_gate_up_interleaved = false;  // gpt_oss: gate = even columns, up = odd columns
  bool stacked_biases = false;               // gpt_oss: <name>_bias tensors [expert][out]
  bool router_bias = false;
  bool conv1d = false;  // gpt2 stores linear weights as [in][out]
};

TensorNaming naming_for(const ModelConfig& c) {
  TensorNaming n;
  const std::string& t = c.model_type;
  if (t == "gpt2") {
    n.layer_prefix = "transformer.h.{}.";
    n.embed = "transformer.wte";
    n.positions = "transformer.wpe";
    n.final_norm = "transformer.ln_f";
    n.qkv_fused = "attn.c_attn";
    n.o = "attn.c_proj";
    n.up = "mlp.c_fc";
    n.down = "mlp.c_proj";
    n.attn_in = "ln_1";
    n.mlp_in = "ln_2";
    n.conv1d = true;
  } else if (t == "phi3") {
    n.qkv_fused = "self_attn.qkv_proj";
    n.gate_up_fused = "mlp.gate_up_proj";
  } else if (t == "phi") {
    n.o = "self_attn.dense";
    n.up = "mlp.fc1";
    n.down = "mlp.fc2";
    n.final_norm = "model.final_layernorm";
  } else if (t == "mixtral") {
    n.router = "block_sparse_moe.gate";
    n.expert_prefix = "block_sparse_moe.experts.{}.";
    n.expert_gate = "w1";
    n.expert_up = "w3";
    n.expert_down = "w2";
  } else if (t == "gpt_oss") {
    n.router = "mlp.router";
    n.router_bias = true;
    n.stacked_gate_up = "mlp.experts.gate_up_proj";
    n.stacked_down = "mlp.experts.down_proj";
    n.stacked_gate_up_interleaved = true;
    n.stacked_biases = true;
  } else if (t == "llama4_text") {
    n.gate = "feed_forward.gate_proj";
    n.up = "feed_forward.up_proj";
    n.down = "feed_forward.down_proj";
    n.router = "feed_forward.router";
    n.stacked_gate_up = "feed_forward.experts.gate_up_proj";
    n.stacked_down = "feed_forward.experts.down_proj";
    n.shared_expert = "feed_forward.shared_expert.";
  } else if (t == "deepseek_v3") {
    n.shared_expert = "mlp.shared_experts.";
  } else if (t == "qwen2_moe") {
    n.shared_expert = "mlp.shared_expert.";
    n.shared_expert_gate = "mlp.shared_expert_gate";
  } else if (t == "starcoder2") {
    n.up = "mlp.c_fc";
    n.down = "mlp.c_proj";
  }
  switch (c.block_style) {
    case BlockStyle::kPreNorm: break;
    case BlockStyle::kSandwich:
      n.attn_out = "post_attention_layernorm";
      n.mlp_in = "pre_feedforward_layernorm";
      n.mlp_out = "post_feedforward_layernorm";
      break;
    case BlockStyle::kPostNorm:
      n.attn_in.clear();
      n.attn_out = "post_attention_layernorm";
      n.mlp_in.clear();
      n.mlp_out = "post_feedforward_layernorm";
      break;
    case BlockStyle::kParallel: n.mlp_in.clear(); break;
  }
  return n;
}

std::string shape_string(const std::vector<int64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Result<WeightFormat> weight_format(const SourceTensor& t) {
  if (t.format) return *t.format;
  return Error::make(ErrorKind::kUnsupported, "tensor \"{}\" has dtype {}, which this model cannot use (F32, BF16, F16)",
                     t.name, t.stored_type);
}

Result<void> check_shape(const SourceTensor& t, const std::vector<int64_t>& expected) {
  if (t.shape != expected)
    return Error::make(ErrorKind::kInvalidArgument, "tensor \"{}\" has shape {} but the config implies {}", t.name,
                       shape_string(t.shape), shape_string(expected));
  if (!t.format) return {};  // weight_format() names the problem
  // Rows are the innermost dimension; block formats must fill whole blocks (llama.cpp's rule too).
  const int64_t cols = t.shape.empty() ? 1 : t.shape.back();
  const int64_t block = kernels::weight_format_block_elements(*t.format);
  if (cols % block != 0)
    return Error::make(ErrorKind::kCorruptData, "tensor \"{}\" has rows of {} elements, not whole {}-element {} blocks",
                       t.name, cols, block, t.stored_type);
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < t.shape.size(); ++d) rows *= t.shape[d];
  if (t.nbytes < static_cast<size_t>(rows) * static_cast<size_t>(kernels::weight_row_bytes(*t.format, cols)))
    return Error::make(ErrorKind::kCorruptData, "tensor \"{}\" holds fewer bytes than its shape", t.name);
  return {};
}

// Bytes between rows of `cols` elements, in any format.
int64_t row_bytes(WeightFormat f, int64_t cols) { return kernels::weight_row_bytes(f, cols); }

class Loader {
 public:
  Loader(const ModelConfig& c, const TensorSource& tensors, ModelWeights& out)
      : c_(c), tensors_(tensors), out_(out), naming_(naming_for(c)) {}

  Result<const SourceTensor*> tensor(const std::string& name, const std::vector<int64_t>& shape) {
    TGI_ASSIGN_OR_RETURN(const SourceTensor* t, tensors_.require(name));
    TGI_TRY(check_shape(*t, shape));
    TGI_TRY(weight_format(*t));
    return t;
  }

  Result<std::vector<float>> vector(const std::string& name, int64_t n) {
    TGI_ASSIGN_OR_RETURN(const SourceTensor* t, tensor(name, {n}));
    TGI_ASSIGN_OR_RETURN(WeightFormat f, weight_format(*t));
    std::vector<float> v(static_cast<size_t>(n));
    kernels::dequantize_row(WeightView{f, 1, n, t->data, 0}, 0, v.data());
    return v;
  }

  // A [rows][cols] matrix as the kernels want it. gpt2's Conv1D stores [cols][rows]: repacked.
  Result<WeightView> matrix(const std::string& name, int64_t rows, int64_t cols) {
    if (!naming_.conv1d) {
      TGI_ASSIGN_OR_RETURN(const SourceTensor* t, tensor(name, {rows, cols}));
      TGI_ASSIGN_OR_RETURN(WeightFormat f, weight_format(*t));
      return WeightView{f, rows, cols, t->data, row_bytes(f, cols)};
    }
    TGI_ASSIGN_OR_RETURN(const SourceTensor* t, tensor(name, {cols, rows}));
    TGI_ASSIGN_OR_RETURN(WeightFormat f, weight_format(*t));
    const WeightView stored{f, cols, rows, t->data, row_bytes(f, rows)};
    auto buffer = std::make_unique<std::vector<std::byte>>(static_cast<size_t>(rows * cols) * sizeof(float));
    auto* dst = reinterpret_cast<float*>(buffer->data());
    std::vector<float> row(static_cast<size_t>(rows));
    for (int64_t i = 0; i < cols; ++i) {
      kernels::dequantize_row(stored, i, row.data());
      for (int64_t r = 0; r < rows; ++r) dst[r * cols + i] = row[r];
    }
    WeightView view{WeightFormat::kF32, rows, cols, buffer->data(), cols * static_cast<int64_t>(sizeof(float))};
    out_.owned.push_back(std::move(buffer));
    return view;
  }

  Result<Linear> linear(const std::string& base, int64_t rows, int64_t cols, bool bias) {
    Linear l;
    TGI_ASSIGN_OR_RETURN(l.weight, matrix(base + ".weight", rows, cols));
    if (bias) { TGI_ASSIGN_OR_RETURN(l.bias, vector(base + ".bias", rows)); }
    return l;
  }

  // Splits a fused projection into row slices (zero-copy).
  Result<std::vector<Linear>> fused(const std::string& base, const std::vector<int64_t>& parts, int64_t cols, bool bias) {
    int64_t rows = 0;
    for (int64_t p : parts) rows += p;
    TGI_ASSIGN_OR_RETURN(Linear whole, linear(base, rows, cols, bias));
    std::vector<Linear> out;
    int64_t begin = 0;
    for (int64_t p : parts) {
      Linear l;
      l.weight = whole.weight.slice_rows(begin, p);
      if (bias) l.bias.assign(whole.bias.begin() + begin, whole.bias.begin() + begin + p);
      out.push_back(std::move(l));
      begin += p;
    }
    return out;
  }

  Result<Norm> norm(const std::string& base, int64_t n) {
    Norm norm;
    if (base.empty()) return norm;
    TGI_ASSIGN_OR_RETURN(norm.weight, vector(base + ".weight", n));
    if (c_.norm_type == NormType::kLayerNorm) { TGI_ASSIGN_OR_RETURN(norm.bias, vector(base + ".bias", n)); }
    return norm;
  }

  Result<void> load() {
    const int64_t hidden = c_.hidden_size, hd = c_.head_dim;
    const int64_t q_rows = c_.num_attention_heads * hd, kv_rows = c_.num_key_value_heads * hd;
    TGI_ASSIGN_OR_RETURN(out_.embed_tokens, plain_matrix(naming_.embed + ".weight", c_.vocab_size, hidden));
    if (!naming_.positions.empty()) {
      TGI_ASSIGN_OR_RETURN(out_.embed_positions,
                           plain_matrix(naming_.positions + ".weight", c_.max_position_embeddings, hidden));
    }
    TGI_ASSIGN_OR_RETURN(out_.final_norm, norm(naming_.final_norm, hidden));
    if (c_.tie_word_embeddings) {
      out_.lm_head.weight = out_.embed_tokens;
    } else {
      TGI_ASSIGN_OR_RETURN(out_.lm_head.weight, plain_matrix(naming_.lm_head + ".weight", c_.vocab_size, hidden));
    }
    if (c_.lm_head_bias) { TGI_ASSIGN_OR_RETURN(out_.lm_head.bias, vector(naming_.lm_head + ".bias", c_.vocab_size)); }

    for (int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      const std::string p = fmt::format(fmt::runtime(naming_.layer_prefix), i);
      LayerWeights& L = out_.layers.emplace_back();
      auto named = [&](const std::string& role) { return role.empty() ? role : p + role; };
      TGI_ASSIGN_OR_RETURN(L.attn_in, norm(named(naming_.attn_in), hidden));
      TGI_ASSIGN_OR_RETURN(L.attn_out, norm(named(naming_.attn_out), hidden));
      TGI_ASSIGN_OR_RETURN(L.mlp_in, norm(named(naming_.mlp_in), hidden));
      TGI_ASSIGN_OR_RETURN(L.mlp_out, norm(named(naming_.mlp_out), hidden));
      if (c_.kv_lora_rank > 0) {
        TGI_TRY(load_latent_attention(p, L));
      } else if (!naming_.qkv_fused.empty()) {
        TGI_ASSIGN_OR_RETURN(auto qkv, fused(p + naming_.qkv_fused, {q_rows, kv_rows, kv_rows}, hidden, c_.qkv_bias));
        L.q = std::move(qkv[0]);
        L.k = std::move(qkv[1]);
        L.v = std::move(qkv[2]);
      } else {
        TGI_ASSIGN_OR_RETURN(L.q, linear(p + naming_.q, q_rows, hidden, c_.qkv_bias));
        TGI_ASSIGN_OR_RETURN(L.k, linear(p + naming_.k, kv_rows, hidden, c_.qkv_bias));
        TGI_ASSIGN_OR_RETURN(L.v, linear(p + naming_.v, kv_rows, hidden, c_.qkv_bias));
      }
      const int64_t o_cols = c_.kv_lora_rank > 0 ? c_.num_attention_heads * c_.v_head_dim : q_rows;
      TGI_ASSIGN_OR_RETURN(L.o, linear(p + naming_.o, hidden, o_cols, c_.o_proj_bias));
      if (c_.attention_sinks) {
        TGI_ASSIGN_OR_RETURN(L.sinks, vector(p + "self_attn.sinks", c_.num_attention_heads));
      }
      switch (c_.kv_lora_rank > 0 ? QkNorm::kNone : c_.qk_norm) {
        case QkNorm::kNone:
        case QkNorm::kL2: break;
        case QkNorm::kPerHead: {
          TGI_ASSIGN_OR_RETURN(L.q_norm.weight, vector(p + naming_.q_norm + ".weight", hd));
          TGI_ASSIGN_OR_RETURN(L.k_norm.weight, vector(p + naming_.k_norm + ".weight", hd));
          break;
        }
        case QkNorm::kFullWidth: {
          TGI_ASSIGN_OR_RETURN(L.q_norm.weight, vector(p + naming_.q_norm + ".weight", q_rows));
          TGI_ASSIGN_OR_RETURN(L.k_norm.weight, vector(p + naming_.k_norm + ".weight", kv_rows));
          break;
        }
      }
      if (c_.layer_is_moe[i]) {
        TGI_TRY(load_moe(p, L.moe));
        continue;
      }
      const int64_t inter = c_.dense_intermediate_size > 0 ? c_.dense_intermediate_size : c_.intermediate_size;
      if (c_.mlp_style == MlpStyle::kGated) {
        if (!naming_.gate_up_fused.empty()) {
          TGI_ASSIGN_OR_RETURN(auto gu, fused(p + naming_.gate_up_fused, {inter, inter}, hidden, c_.mlp_bias));
          L.mlp.gate = std::move(gu[0]);
          L.mlp.up = std::move(gu[1]);
        } else {
          TGI_ASSIGN_OR_RETURN(L.mlp.gate, linear(p + naming_.gate, inter, hidden, c_.mlp_bias));
          TGI_ASSIGN_OR_RETURN(L.mlp.up, linear(p + naming_.up, inter, hidden, c_.mlp_bias));
        }
      } else {
        TGI_ASSIGN_OR_RETURN(L.mlp.up, linear(p + naming_.up, inter, hidden, c_.mlp_bias));
      }
      TGI_ASSIGN_OR_RETURN(L.mlp.down, linear(p + naming_.down, hidden, inter, c_.mlp_bias));
    }
    return {};
  }

 private:
  Result<FeedForward> gated_ffn(const std::string& prefix, int64_t inter) {
    const int64_t hidden = c_.hidden_size;
    FeedForward f;
    TGI_ASSIGN_OR_RETURN(f.gate, linear(prefix + naming_.expert_gate, inter, hidden, false));
    TGI_ASSIGN_OR_RETURN(f.up, linear(prefix + naming_.expert_up, inter, hidden, false));
    TGI_ASSIGN_OR_RETURN(f.down, linear(prefix + naming_.expert_down, hidden, inter, false));
    return f;
  }

  // Columns begin, begin + step, ... (count of them) of expert e's [in][out] slice of a stacked
  // [experts][in][out] tensor, repacked as a [count][in] f32 matrix the kernels can read.
  Result<WeightView> stacked_columns(const SourceTensor& t, int64_t e, int64_t begin, int64_t step, int64_t count) {
    TGI_ASSIGN_OR_RETURN(WeightFormat f, weight_format(t));
    const int64_t in = t.shape[1], out = t.shape[2];
    const int64_t stride = row_bytes(f, out);
    const WeightView stored{f, in, out, t.data + e * in * stride, stride};
    auto buffer = std::make_unique<std::vector<std::byte>>(static_cast<size_t>(count * in) * sizeof(float));
    auto* dst = reinterpret_cast<float*>(buffer->data());
    std::vector<float> row(static_cast<size_t>(out));
    for (int64_t i = 0; i < in; ++i) {
      kernels::dequantize_row(stored, i, row.data());
      for (int64_t r = 0; r < count; ++r) dst[r * in + i] = row[begin + r * step];
    }
    WeightView view{WeightFormat::kF32, count, in, buffer->data(), in * static_cast<int64_t>(sizeof(float))};
    out_.owned.push_back(std::move(buffer));
    return view;
  }

  Result<std::vector<float>> stacked_bias(const std::string& name, int64_t e, int64_t width, int64_t begin, int64_t step,
                                          int64_t count) {
    TGI_ASSIGN_OR_RETURN(const SourceTensor* t, tensor(name, {c_.num_experts, width}));
    TGI_ASSIGN_OR_RETURN(WeightFormat f, weight_format(*t));
    std::vector<float> all(static_cast<size_t>(width)), out(static_cast<size_t>(count));
    kernels::dequantize_row(WeightView{f, c_.num_experts, width, t->data,
                                       row_bytes(f, width)},
                            e, all.data());
    for (int64_t r = 0; r < count; ++r) out[r] = all[begin + r * step];
    return out;
  }

  Result<void> load_stacked_experts(const std::string& p, MoeWeights& moe) {
    const int64_t E = c_.num_experts, H = c_.hidden_size, I = c_.moe_intermediate_size;
    TGI_ASSIGN_OR_RETURN(const SourceTensor* gate_up, tensor(p + naming_.stacked_gate_up, {E, H, 2 * I}));
    TGI_ASSIGN_OR_RETURN(const SourceTensor* down, tensor(p + naming_.stacked_down, {E, I, H}));
    const bool il = naming_.stacked_gate_up_interleaved;
    const int64_t gate_begin = 0, up_begin = il ? 1 : I, step = il ? 2 : 1;
    for (int64_t e = 0; e < E; ++e) {
      FeedForward f;
      TGI_ASSIGN_OR_RETURN(f.gate.weight, stacked_columns(*gate_up, e, gate_begin, step, I));
      TGI_ASSIGN_OR_RETURN(f.up.weight, stacked_columns(*gate_up, e, up_begin, step, I));
      TGI_ASSIGN_OR_RETURN(f.down.weight, stacked_columns(*down, e, 0, 1, H));
      if (naming_.stacked_biases) {
        const std::string gu_bias = p + naming_.stacked_gate_up + "_bias", d_bias = p + naming_.stacked_down + "_bias";
        TGI_ASSIGN_OR_RETURN(f.gate.bias, stacked_bias(gu_bias, e, 2 * I, gate_begin, step, I));
        TGI_ASSIGN_OR_RETURN(f.up.bias, stacked_bias(gu_bias, e, 2 * I, up_begin, step, I));
        TGI_ASSIGN_OR_RETURN(f.down.bias, stacked_bias(d_bias, e, H, 0, 1, H));
      }
      moe.experts.push_back(std::move(f));
    }
    return {};
  }

  Result<void> load_latent_attention(const std::string& p, LayerWeights& L) {
    const int64_t H = c_.hidden_size, nh = c_.num_attention_heads;
    const int64_t qk = c_.qk_nope_head_dim + c_.qk_rope_head_dim, rank = c_.kv_lora_rank;
    auto rms = [&](const std::string& name, int64_t n) -> Result<Norm> {
      Norm norm;
      TGI_ASSIGN_OR_RETURN(norm.weight, vector(name, n));
      return norm;
    };
    if (c_.q_lora_rank > 0) {
      TGI_ASSIGN_OR_RETURN(L.mla.q_a, linear(p + "self_attn.q_a_proj", c_.q_lora_rank, H, c_.qkv_bias));
      TGI_ASSIGN_OR_RETURN(L.mla.q_a_norm, rms(p + "self_attn.q_a_layernorm.weight", c_.q_lora_rank));
      TGI_ASSIGN_OR_RETURN(L.mla.q_b, linear(p + "self_attn.q_b_proj", nh * qk, c_.q_lora_rank, false));
    } else {
      TGI_ASSIGN_OR_RETURN(L.mla.q, linear(p + "self_attn.q_proj", nh * qk, H, false));
    }
    TGI_ASSIGN_OR_RETURN(L.mla.kv_a, linear(p + "self_attn.kv_a_proj_with_mqa", rank + c_.qk_rope_head_dim, H, c_.qkv_bias));
    TGI_ASSIGN_OR_RETURN(L.mla.kv_a_norm, rms(p + "self_attn.kv_a_layernorm.weight", rank));
    const int64_t kv_b_rows = nh * (c_.qk_nope_head_dim + c_.v_head_dim);
    TGI_ASSIGN_OR_RETURN(const SourceTensor* kv_b, tensor(p + "self_attn.kv_b_proj.weight", {kv_b_rows, rank}));
    TGI_ASSIGN_OR_RETURN(WeightFormat f, weight_format(*kv_b));
    const WeightView view{f, kv_b_rows, rank, kv_b->data, row_bytes(f, rank)};
    L.mla.kv_b.resize(static_cast<size_t>(kv_b_rows * rank));
    for (int64_t r = 0; r < kv_b_rows; ++r) kernels::dequantize_row(view, r, &L.mla.kv_b[r * rank]);
    return {};
  }

  Result<void> load_moe(const std::string& p, MoeWeights& moe) {
    TGI_ASSIGN_OR_RETURN(moe.router, linear(p + naming_.router, c_.num_experts, c_.hidden_size, naming_.router_bias));
    if (!naming_.stacked_gate_up.empty()) {
      TGI_TRY(load_stacked_experts(p, moe));
    }
    for (int64_t e = 0; naming_.stacked_gate_up.empty() && e < c_.num_experts; ++e) {
      TGI_ASSIGN_OR_RETURN(FeedForward f,
                           gated_ffn(p + fmt::format(fmt::runtime(naming_.expert_prefix), e), c_.moe_intermediate_size));
      moe.experts.push_back(std::move(f));
    }
    if (c_.model_type == "deepseek_v3") {
      TGI_ASSIGN_OR_RETURN(moe.router_correction_bias, vector(p + "mlp.gate.e_score_correction_bias", c_.num_experts));
    }
    if (!naming_.shared_expert.empty()) {
      const int64_t shared_inter = c_.shared_expert_intermediate_size > 0 ? c_.shared_expert_intermediate_size
                                                                           : c_.moe_intermediate_size * c_.num_shared_experts;
      TGI_ASSIGN_OR_RETURN(moe.shared, gated_ffn(p + naming_.shared_expert, shared_inter));
    }
    if (!naming_.shared_expert_gate.empty()) {
      TGI_ASSIGN_OR_RETURN(moe.shared_gate, linear(p + naming_.shared_expert_gate, 1, c_.hidden_size, false));
    }
    return {};
  }

  // Embedding-like tables are [rows][cols] in every layout (gpt2 included).
  Result<WeightView> plain_matrix(const std::string& name, int64_t rows, int64_t cols) {
    TGI_ASSIGN_OR_RETURN(const SourceTensor* t, tensor(name, {rows, cols}));
    TGI_ASSIGN_OR_RETURN(WeightFormat f, weight_format(*t));
    return WeightView{f, rows, cols, t->data, row_bytes(f, cols)};
  }

  const ModelConfig& c_;
  const TensorSource& tensors_;
  ModelWeights& out_;
  TensorNaming naming_;
};

}  // namespace

Result<ModelWeights> load_weights(const ModelConfig& config, const TensorSource& tensors) {

  ModelWeights weights;
  Loader loader(config, tensors, weights);
  TGI_TRY(loader.load());
  return weights;
}

Result<ModelWeights> load_weights(const ModelConfig& config, const formats::SafetensorsModel& tensors) {
  return load_weights(config, SafetensorsTensorSource(tensors));
}

}  // namespace tgi::model
