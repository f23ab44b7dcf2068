#!/usr/bin/env python3
"""Writes the BF16 GGUF twin of a bench/make-tinyllama.py checkpoint, for llama.cpp (no numpy).

A stopgap beside `tgi convert --to gguf --type bf16` (use that when it is built): matrices keep their
bytes (norm vectors are widened to F32, as llama.cpp wants), only renamed to llama.cpp's names, with q/k rows reordered into llama.cpp's interleaved rope
order; the tokenizer is the Llama 2 SentencePiece vocabulary as tokenizer.ggml.* metadata.

  bench/make-gguf-bf16.py MODEL_DIR OUT.gguf
"""
import gzip
import json
import os
import struct
import sys

ALIGN = 32
GGML_BF16 = 30
GGML_F32 = 0


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, payload):
    return gguf_string(key) + struct.pack("<I", vtype) + payload


def kv_u32(key, v): return kv(key, 4, struct.pack("<I", v))
def kv_f32(key, v): return kv(key, 6, struct.pack("<f", v))
def kv_str(key, v): return kv(key, 8, gguf_string(v))
def kv_bool(key, v): return kv(key, 7, struct.pack("<B", 1 if v else 0))


def kv_array(key, elem_type, items, pack):
    return kv(key, 9, struct.pack("<IQ", elem_type, len(items)) + b"".join(pack(x) for x in items))


def gguf_name(hf):
    if hf == "model.embed_tokens.weight": return "token_embd.weight"
    if hf == "model.norm.weight": return "output_norm.weight"
    if hf == "lm_head.weight": return "output.weight"
    parts = hf.split(".")
    layer, rest = parts[2], ".".join(parts[3:])
    table = {"input_layernorm.weight": "attn_norm.weight", "self_attn.q_proj.weight": "attn_q.weight",
             "self_attn.k_proj.weight": "attn_k.weight", "self_attn.v_proj.weight": "attn_v.weight",
             "self_attn.o_proj.weight": "attn_output.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
             "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
             "mlp.down_proj.weight": "ffn_down.weight"}
    return f"blk.{layer}.{table[rest]}"


def permute_rows(data, rows, row_bytes, heads):
    """HF half-split rope order -> llama.cpp interleaved: GGUF row h*D + 2i + j holds HF row h*D + j*D/2 + i."""
    d = rows // heads
    out = bytearray(len(data))
    for h in range(heads):
        for i in range(d // 2):
            for j in range(2):
                src = h * d + j * (d // 2) + i
                dst = h * d + 2 * i + j
                out[dst * row_bytes:(dst + 1) * row_bytes] = data[src * row_bytes:(src + 1) * row_bytes]
    return bytes(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model_dir, out_path = sys.argv[1], sys.argv[2]
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    tok = json.load(open(os.path.join(model_dir, "tokenizer.json")))
    st = open(os.path.join(model_dir, "model.safetensors"), "rb")
    header_len = struct.unpack("<Q", st.read(8))[0]
    header = json.loads(st.read(header_len))
    base = 8 + header_len
    tensors = [(k, v) for k, v in header.items() if k != "__metadata__"]
    tensors.sort(key=lambda kv_: kv_[1]["data_offsets"][0])

    vocab = sorted(tok["model"]["vocab"].items(), key=lambda kv_: kv_[1])
    special = {t["content"] for t in tok.get("added_tokens", []) if t.get("special")}
    def token_type(t):
        if t == "<unk>": return 2
        if t in special: return 3
        if t.startswith("<0x") and len(t) == 6: return 6
        return 1
    H, heads, kv_heads = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    meta = [
        kv_str("general.architecture", "llama"), kv_str("general.name", "tinyllama-random"),
        kv_u32("general.file_type", 32),  # MOSTLY_BF16
        kv_u32("llama.context_length", cfg["max_position_embeddings"]), kv_u32("llama.embedding_length", H),
        kv_u32("llama.block_count", cfg["num_hidden_layers"]), kv_u32("llama.feed_forward_length", cfg["intermediate_size"]),
        kv_u32("llama.rope.dimension_count", H // heads), kv_u32("llama.attention.head_count", heads),
        kv_u32("llama.attention.head_count_kv", kv_heads), kv_f32("llama.rope.freq_base", cfg["rope_theta"]),
        kv_f32("llama.attention.layer_norm_rms_epsilon", cfg["rms_norm_eps"]), kv_u32("llama.vocab_size", len(vocab)),
        kv_str("tokenizer.ggml.model", "llama"),
        kv_array("tokenizer.ggml.tokens", 8, [t for t, _ in vocab], gguf_string),
        kv_array("tokenizer.ggml.scores", 6, [-float(i) for _, i in vocab], lambda x: struct.pack("<f", x)),
        kv_array("tokenizer.ggml.token_type", 5, [token_type(t) for t, _ in vocab], lambda x: struct.pack("<i", x)),
        kv_u32("tokenizer.ggml.bos_token_id", 1), kv_u32("tokenizer.ggml.eos_token_id", 2),
        kv_u32("tokenizer.ggml.unknown_token_id", 0), kv_bool("tokenizer.ggml.add_bos_token", True),
    ]
    infos, offset = [], 0
    for name, t in tensors:
        nbytes = t["data_offsets"][1] - t["data_offsets"][0]
        # llama.cpp multiplies by norm weights in f32 only: 1-D tensors are widened.
        ggml_type = GGML_BF16 if t["dtype"] == "BF16" and len(t["shape"]) > 1 else GGML_F32
        if t["dtype"] == "BF16" and len(t["shape"]) == 1:
            nbytes *= 2
        dims = list(reversed(t["shape"]))
        infos.append(gguf_string(gguf_name(name)) + struct.pack("<I", len(dims)) +
                     b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", ggml_type, offset))
        offset += (nbytes + ALIGN - 1) // ALIGN * ALIGN
    with open(out_path, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)))
        for m in meta: f.write(m)
        for i in infos: f.write(i)
        f.write(b"\0" * ((-f.tell()) % ALIGN))
        for name, t in tensors:
            begin, end = t["data_offsets"]
            st.seek(base + begin)
            data = st.read(end - begin)
            if name.endswith("q_proj.weight") or name.endswith("k_proj.weight"):
                rows = t["shape"][0]
                data = permute_rows(data, rows, len(data) // rows, heads if "q_proj" in name else kv_heads)
            if t["dtype"] == "BF16" and len(t["shape"]) == 1:
                data = b"".join(b"\0\0" + data[i:i + 2] for i in range(0, len(data), 2))
            f.write(data)
            f.write(b"\0" * ((-len(data)) % ALIGN))
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
