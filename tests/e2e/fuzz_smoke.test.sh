#!/usr/bin/env bash
# Bounded fuzzing as part of the test suite: builds ONLY the libFuzzer harnesses (clang, ASan+UBSan)
# in their own build dir next to the tested binary, then runs each from its seed corpus for a fixed
# seed and number of inputs (capped at TGI_FUZZ_SECONDS), so the suite is reproducible: it never
# fails on a machine for an input a developer's identical run did not try. Open-ended random
# fuzzing is `make fuzz`. Any crash, sanitizer report or timeout fails the test.
set -euo pipefail
src=${TGI_SOURCE_DIR:?TGI_SOURCE_DIR must point at the source tree}
build=${TGI_FUZZ_BUILD_DIR:-$(dirname "${TGI_BINARY:?}")/fuzz-smoke}
seconds=${TGI_FUZZ_SECONDS:-30}
export TGI_FUZZ_SEED=${TGI_FUZZ_SEED:-20261127}
export TGI_FUZZ_RUNS=${TGI_FUZZ_RUNS:-40000}
if ! command -v clang++ >/dev/null; then
  echo "fuzz_smoke: clang++ not found (scripts/install-deps installs clang)" >&2
  exit 1
fi
# -O1 with assertions on: quicker to build than -O3 and the usual setting for sanitizer fuzzing.
CC=clang CXX=clang++ cmake -S "$src" -B "$build" -G Ninja -Wno-dev -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS_DEBUG="-g -O1" -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DTGI_BUILD_TESTS=OFF -DTGI_FUZZ=ON >/dev/null
cmake --build "$build" -j 2 --target fuzzers | tail -n 3
exec bash "$src/scripts/run-fuzzers" "$build" "$seconds"
