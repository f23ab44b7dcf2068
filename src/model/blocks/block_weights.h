#pragma once
// A layer's weights as the backend's operations name them (backend/ops.h): the views and vectors of
// ModelWeights, pointed at, never copied. Built once, after the weights have reached their final
// place in the model (the pointers must not move).
#include "backend/ops.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace tgi::model {

inline backend::Matrix matrix(const Linear& linear) {
  if (!linear.present()) return {};
  return {&linear.weight, linear.bias_or_null()};
}

inline backend::NormKind norm_kind(NormType type) {
  switch (type) {
    case NormType::kRmsNorm:
      return backend::NormKind::kRms;
    case NormType::kRmsNormOnePlus:
      return backend::NormKind::kRmsOnePlus;
    case NormType::kLayerNorm:
      return backend::NormKind::kLayer;
    case NormType::kLayerNormNoBias:
      return backend::NormKind::kLayerNoBias;
  }
  return backend::NormKind::kRms;
}

// The model's norm flavour with this norm's weights; weight null when the norm does not exist.
inline backend::NormWeights norm_weights(const ModelConfig& config, const Norm& norm) {
  return {norm_kind(config.norm_type), norm.present() ? norm.weight.data() : nullptr,
          norm.bias.empty() ? nullptr : norm.bias.data(), static_cast<float>(config.norm_eps)};
}

inline backend::FeedForwardWeights feed_forward_weights(const FeedForward& f) {
  return {matrix(f.gate), matrix(f.up), matrix(f.down)};
}

inline backend::FeedForwardActivation feed_forward_activation(const ModelConfig& config) {
  backend::FeedForwardActivation a;
  switch (config.hidden_act) {
    case Activation::kSilu:
      a.kind = backend::ActivationKind::kSilu;
      break;
    case Activation::kGeluTanh:
      a.kind = backend::ActivationKind::kGeluTanh;
      break;
    case Activation::kGelu:
      a.kind = backend::ActivationKind::kGelu;
      break;
    case Activation::kRelu:
      a.kind = backend::ActivationKind::kRelu;
      break;
  }
  a.swiglu_limit = static_cast<float>(config.swiglu_limit);
  return a;
}

}  // namespace tgi::model
