#!/usr/bin/env bash
# Tokenizer speed, side by side with Hugging Face tokenizers (Rust, via its npm build):
# tokenizer.json load time and single-call encode throughput on the same few MB of mixed text,
# for each golden tokenizer. Prints one table row per tokenizer with the throughput ratio.
#   TGI_BUILD_DIR   build dir to use (default build/bench-tok; configured as Release if new)
#   BENCH_MB        corpus size in MB (default 3)      BENCH_ROUNDS  timed rounds (default 3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${TGI_BUILD_DIR:-$root/build/bench-tok}
mb=${BENCH_MB:-3}
rounds=${BENCH_ROUNDS:-3}

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTGI_BUILD_TESTS=OFF >/dev/null
fi
ninja -C "$build" tgi_tokenizer testdata >/dev/null
bench_bin=$build/tokenizer_bench
if [ ! -x "$bench_bin" ] || [ "$here/tokenizer_bench.cpp" -nt "$bench_bin" ] || [ "$build/libtgi_tokenizer.a" -nt "$bench_bin" ]; then
  g++ -std=c++20 -O3 -mavx2 -mfma -I "$root/src" "$here/tokenizer_bench.cpp" \
    "$build/libtgi_tokenizer.a" "$build/libtgi_core.a" \
    $(pkg-config --libs libpcre2-8 icu-uc) -lfmt -lspdlog -o "$bench_bin"
fi
if [ ! -d "$here/node_modules/@anush008/tokenizers" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null 2>&1 || npm install --no-audit --no-fund >/dev/null)
fi
corpus=$build/tokenizer-bench-corpus.json
TGI_TEST_DATA_DIR=$build/testdata python3 "$here/make_corpus.py" "$corpus" "$mb"

printf '%-12s %10s %10s %12s %12s %8s %8s %6s\n' tokenizer ours_MB/s ref_MB/s ours_load_s ref_load_s ratio tokens same
for name in llama2 llama3_1 qwen3 gemma3 deepseek_v3; do
  tj=$build/testdata/tokenizers/$name/tokenizer.json
  ours=$("$bench_bin" "$tj" "$corpus" "$name" "$rounds")
  ref=$(node "$here/ref_bench.js" "$tj" "$corpus" "$name" "$rounds")
  python3 - "$ours" "$ref" <<'PY'
import json, sys
o, r = json.loads(sys.argv[1]), json.loads(sys.argv[2])
same = "yes" if o["tokens"] == r["tokens"] else "NO"
print(f'{o["name"]:<12} {o["mb_per_cpu_s"]:>10.2f} {r["mb_per_cpu_s"]:>10.2f} {o["load_cpu_s"]:>12.3f} '
      f'{r["load_cpu_s"]:>12.3f} {o["mb_per_cpu_s"] / r["mb_per_cpu_s"]:>7.2f}x {o["tokens"]:>8} {same:>6}')
PY
done
echo "(MB/s = MB of UTF-8 text per CPU second, one call per ~4 KB document; load = CPU seconds for tokenizer.json)"
