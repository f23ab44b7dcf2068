#include "model/weights.h"

namespace tgi::model {

void for_each_linear(ModelWeights& weights, const std::function<void(Linear&, bool quantizable)>& visit) {
  auto ffn = [&](FeedForward& f) {
    visit(f.gate, true);
    visit(f.up, true);
    visit(f.down, true);
  };
  for (LayerWeights& L : weights.layers) {
    for (Linear* l : {&L.q, &L.k, &L.v, &L.o, &L.mla.q_a, &L.mla.q_b, &L.mla.q, &L.mla.kv_a}) visit(*l, true);
    ffn(L.mlp);
    for (FeedForward& e : L.moe.experts) ffn(e);
    ffn(L.moe.shared);
    visit(L.moe.router, false);
    visit(L.moe.shared_gate, false);
  }
  visit(weights.lm_head, true);
}

}  // namespace tgi::model
