#!/usr/bin/env python3
"""Writes a TinyLlama-1.1B-shaped checkpoint with random weights (no download, no numpy).

Shape: hidden 2048, 22 layers, 32 heads, 4 KV heads, intermediate 5632, vocab 32000, BF16.
The tokenizer is the 32000-token Llama 2 SentencePiece vocabulary from tests/data, so llama.cpp
can load the converted GGUF. Weights are random BF16 of magnitude in [2^-7, 2^-5) (bytes from
os.urandom with the exponent forced), norms are ones. For benchmarks only: it generates garbage.

  bench/make-tinyllama.py OUT_DIR
  tgi convert --model-id OUT_DIR --to gguf --type q8_0 OUT_DIR.q8_0.gguf
"""
import gzip
import json
import os
import shutil
import struct
import sys

HIDDEN, LAYERS, HEADS, KV_HEADS, INTERMEDIATE, VOCAB = 2048, 22, 32, 4, 5632, 32000
HEAD_DIM = HIDDEN // HEADS
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER_DIR = os.path.join(REPO, "tests", "data", "models", "llama2-tok")

# High byte of a little-endian bf16: keep the random sign bit, force exponent bits to 0111100
# (magnitudes in [2^-7, 2^-5)) so every weight is finite and small.
HIGH_BYTE = bytes(((b & 0x80) | 0x3C) for b in range(256))


def tensor_shapes():
    yield "model.embed_tokens.weight", [VOCAB, HIDDEN]
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", [HIDDEN]
        yield p + "self_attn.q_proj.weight", [HEADS * HEAD_DIM, HIDDEN]
        yield p + "self_attn.k_proj.weight", [KV_HEADS * HEAD_DIM, HIDDEN]
        yield p + "self_attn.v_proj.weight", [KV_HEADS * HEAD_DIM, HIDDEN]
        yield p + "self_attn.o_proj.weight", [HIDDEN, HEADS * HEAD_DIM]
        yield p + "post_attention_layernorm.weight", [HIDDEN]
        yield p + "mlp.gate_proj.weight", [INTERMEDIATE, HIDDEN]
        yield p + "mlp.up_proj.weight", [INTERMEDIATE, HIDDEN]
        yield p + "mlp.down_proj.weight", [HIDDEN, INTERMEDIATE]
    yield "model.norm.weight", [HIDDEN]
    yield "lm_head.weight", [VOCAB, HIDDEN]


def random_bf16(count):
    out = bytearray(2 * count)
    out[0::2] = os.urandom(count)
    out[1::2] = os.urandom(count).translate(HIGH_BYTE)
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    shapes = list(tensor_shapes())
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in shapes:
        size = 2
        for d in shape:
            size *= d
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    header_bytes += b" " * ((8 - len(header_bytes) % 8) % 8)
    with open(os.path.join(out_dir, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for name, shape in shapes:
            count = 1
            for d in shape:
                count *= d
            f.write(b"\x80\x3f" * count if len(shape) == 1 else random_bf16(count))
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": HIDDEN,
        "intermediate_size": INTERMEDIATE, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS, "vocab_size": VOCAB, "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": False,
        "attention_bias": False, "mlp_bias": False, "bos_token_id": 1, "eos_token_id": 2,
        "torch_dtype": "bfloat16",
    }
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with gzip.open(os.path.join(TOKENIZER_DIR, "tokenizer.json.gz"), "rb") as src, \
            open(os.path.join(out_dir, "tokenizer.json"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy(os.path.join(TOKENIZER_DIR, "tokenizer_config.json"), out_dir)
    print(f"wrote {out_dir}: {offset / 1e9:.2f} GB of BF16 weights, {len(shapes)} tensors")


if __name__ == "__main__":
    main()
