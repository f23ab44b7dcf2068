#!/usr/bin/env python3
"""Builds the benchmark corpus: a few MB of mixed text (English prose and docs, C++/Python/JSON
code, the multilingual and adversarial golden texts), as a JSON list of ~4 KB documents.
Only files tracked in this repository are used, so every run measures the same bytes."""
import json, os, random, subprocess, sys

root = subprocess.check_output(["git", "rev-parse", "--show-toplevel"], text=True).strip()
out = sys.argv[1]
target_mb = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
files = subprocess.check_output(["git", "-C", root, "ls-files", "*.md", "*.cpp", "*.h", "*.py", "*.sh",
                                 "*.json", "*.jinja"], text=True).split()
texts = []
for f in files:
    p = os.path.join(root, f)
    if os.path.getsize(p) > 2_000_000:
        continue
    try:
        texts.append(open(p, encoding="utf-8").read())
    except (UnicodeDecodeError, FileNotFoundError):
        pass
data = os.environ.get("TGI_TEST_DATA_DIR", os.path.join(root, "build/tok/testdata"))
for name in ["llama2", "llama3_1", "qwen3", "gemma3", "deepseek_v3"]:
    g = json.load(open(os.path.join(data, "tokenizers", name, "golden.json")))
    texts.append("\n".join(c["text"] for c in g["cases"]))
    break  # the case texts are the same for every tokenizer
blob = "\n\n".join(texts)
docs = []
for i in range(0, len(blob), 4000):
    docs.append(blob[i:i + 4000])
rng = random.Random(1234)
corpus = []
size = 0
while size < target_mb * 1e6:
    batch = docs[:]
    rng.shuffle(batch)
    for d in batch:
        corpus.append(d)
        size += len(d.encode("utf-8"))
        if size >= target_mb * 1e6:
            break
json.dump(corpus, open(out, "w"), ensure_ascii=False)
print(f"{len(corpus)} documents, {size / 1e6:.2f} MB", file=sys.stderr)
