#!/usr/bin/env python3
"""Builds tests/data/tokenizers/precompiled/tokenizer.json: a tokenizer whose normalizer is a
SentencePiece precompiled_charsmap (darts-clone double-array trie + replacement pool) holding
NFKC mappings (fullwidth forms, ligatures, squared words, ...) plus a few entries that exercise
the reference's quirks (removals, multi-character keys, a shortest-prefix hit, a 6-byte
grapheme). The expected answers come from Hugging Face tokenizers (make_precompiled_golden.js)."""
import base64
import json
import struct
import sys
import unicodedata

RANGES = [(0x00A0, 0x00FF), (0x2000, 0x200A), (0x2150, 0x2189), (0x2460, 0x2473), (0x3000, 0x3000),
          (0x3300, 0x3357), (0xFB00, 0xFB06), (0xFF01, 0xFF9F)]
EXTRA = {
    "\u200b": "", "\ufeff": "", "\x01": "", "\x02": "",  # removals
    "e\u0301": "\u00e9", "A\u030a": "\u00c5",            # whole-grapheme keys
    "\r\n": "\n",                                         # the one ASCII grapheme of two characters
    "q": "Q",                                             # a prefix of the grapheme "q\u0301"
    "\uff76\uff9e": "\u30ac",                             # a 6-byte grapheme: looked up per character
}


def mappings():
    out = {}
    for lo, hi in RANGES:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            norm = unicodedata.normalize("NFKC", ch)
            if norm != ch:
                out[ch] = norm
    out.update(EXTRA)
    return out


def build_double_array(keys):
    """keys: {bytes: value}. darts-clone units: label in bits 0-7, has_leaf bit 8, offset from bit 10
    (node's children at pos ^ offset ^ byte, its value unit at pos ^ offset)."""
    trie = {}
    for key, value in keys.items():
        node = trie
        for b in key:
            node = node.setdefault(b, {})
        node[None] = value
    units = {0: 0}
    used_bases = set()
    queue = [(trie, 0, 0)]
    next_free = 1
    while queue:
        node, pos, label = queue.pop(0)
        children = sorted(k for k in node if k is not None)
        need_value = None in node
        base = next_free
        while True:
            slots = [base ^ c for c in children] + ([base] if need_value else [])
            if base not in used_bases and all(s != 0 and s not in units for s in slots):
                break
            base += 1
        used_bases.add(base)
        offset = pos ^ base
        assert offset < (1 << 21)
        units[pos] = (offset << 10) | (int(need_value) << 8) | label
        if need_value:
            units[base] = 0x80000000 | node[None]
        for c in children:
            units[base ^ c] = c  # placeholder until the child is placed
            queue.append((node[c], base ^ c, c))
        while next_free in units:
            next_free += 1
    size = max(units) + 1
    return [units.get(i, 0) for i in range(size)]


def charsmap_blob():
    pool = b""
    keys = {}
    for key, norm in sorted(mappings().items()):
        keys[key.encode()] = len(pool)
        pool += norm.encode() + b"\0"
    units = build_double_array(keys)
    return struct.pack("<I", 4 * len(units)) + struct.pack("<%dI" % len(units), *units) + pool


def main(out_path):
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap_blob()).decode()},
        "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[\\s\\S]"}, "behavior": "Isolated", "invert": False},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": {"[UNK]": 0}, "unk_token": "[UNK]"},
    }
    with open(out_path, "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
