#!/usr/bin/env python3
"""Per-token serving overhead: what a generated token costs over HTTP beyond the model's forward.

    bench/serving_overhead.py [--binary PATH] [--baseline PATH] [--requests N] [--tokens T]

Starts `tgi serve` on the bundled tiny model (2 layers, hidden 32, but Qwen3's 151,936-token
vocabulary: the forward is tiny, so what is left is sampling, detokenization, events, JSON and
HTTP) and runs N rounds. A round measures the forward with `tgi bench` (batch 1 decode, the p50
of T steps), then times one request of T tokens per mode: /generate and /generate_stream, greedy
and with top-k/top-p sampling, sent with curl (a C client, so the client takes little of the
shared cores). A request's overhead is its ms/token minus that round's forward p50; per mode the
script prints the medians over the rounds (and the best overhead). Every request must have
generated exactly T tokens (the random-weight model rarely emits EOS; a run that stops early
fails the benchmark rather than skewing it).

With --baseline, a second server runs the baseline binary and every round times both binaries,
one request each in turn, so both see the same load: on a shared machine that is the only
comparison worth making. The server not being timed sleeps meanwhile.
"""
import argparse
import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODES = [  # (name, route, sampling parameters)
    ("greedy /generate", "/generate", {}),
    ("top-k/top-p /generate", "/generate", {"do_sample": True, "top_p": 0.9, "top_k": 50, "seed": 1}),
    ("greedy /generate_stream", "/generate_stream", {}),
    ("top-k/top-p /generate_stream", "/generate_stream", {"do_sample": True, "top_p": 0.9, "top_k": 50, "seed": 1}),
]


def cpu_description():
    model = "unknown"
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    isa = [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16") if f in flags]
    return f"{model}, {os.cpu_count()} cpus, {' '.join(isa)}"


def forward_ms(binary, model, tokens, workdir):
    out = pathlib.Path(workdir) / f"bench-{abs(hash(binary))}.json"
    subprocess.run([binary, "bench", "--model-id", model, "--batch-sizes", "1", "--prompt-lengths", "0",
                    "--decode-steps", str(tokens), "--json", str(out)],
                   check=True, capture_output=True)
    cell = next(c for c in json.loads(out.read_text())["decode"] if c["batch_size"] == 1)
    return cell["p50_ms"], 1000.0 / cell["tokens_per_second"]


class Server:
    def __init__(self, binary, model, tokens, workdir):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(pathlib.Path(workdir) / f"server-{self.port}.log", "w")
        self.process = subprocess.Popen(
            [binary, "serve", "--model-id", model, "--hostname", "127.0.0.1", "--port", str(self.port),
             "--prometheus-port", "0", "--max-input-tokens", "64", "--max-total-tokens", str(tokens + 64),
             "--max-batch-total-tokens", str(4 * (tokens + 64))],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(600):
            if self.process.poll() is not None:
                sys.exit(f"{binary} serve exited; see {self.log.name}")
            if subprocess.run(["curl", "-fsS", "-o", "/dev/null", self.base + "/health"],
                              capture_output=True).returncode == 0:
                return
            time.sleep(0.2)
        sys.exit(f"{binary} serve never became healthy")

    def stop(self):
        self.process.terminate()
        self.process.wait()
        self.log.close()

    def time_request(self, route, parameters, tokens, workdir):
        body = json.dumps({"inputs": "Hello", "parameters": {"max_new_tokens": tokens, "details": True, **parameters}})
        out = pathlib.Path(workdir) / "response"
        result = subprocess.run(["curl", "-sS", "-N", "-o", str(out), "-w", "%{time_total}",
                                 "-H", "content-type: application/json", "-d", body, self.base + route],
                                check=True, capture_output=True, text=True)
        text = out.read_text()
        if route == "/generate_stream":
            events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
            if len(events) != tokens:
                sys.exit(f"{route}: {len(events)} events, expected {tokens}")
            generated = (events[-1].get("details") or {}).get("generated_tokens")
        else:
            generated = json.loads(text)["details"]["generated_tokens"]
        if generated != tokens:
            sys.exit(f"{route}: generated_tokens {generated}, expected {tokens} (stopped early)")
        return float(result.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=str(ROOT / "build/test/tgi"))
    parser.add_argument("--baseline", help="a second tgi binary, timed in alternation with --binary")
    parser.add_argument("--model-id", default=str(pathlib.Path(os.environ.get(
        "TGI_TEST_DATA_DIR", ROOT / "build/test/testdata")) / "models/qwen3-tok"))
    parser.add_argument("--requests", type=int, default=7, help="rounds: timed requests per mode and binary")
    parser.add_argument("--tokens", type=int, default=256)
    args = parser.parse_args()

    binaries = {"new": args.binary}
    if args.baseline:
        binaries = {"baseline": args.baseline, "new": args.binary}
    print(f"cpu: {cpu_description()}")
    print(f"load average: {' '.join(open('/proc/loadavg').read().split()[:3])}")
    print(f"model: {args.model_id}; {args.requests} rounds of one {args.tokens}-token request per mode")
    with tempfile.TemporaryDirectory() as workdir:
        servers = {name: Server(binary, args.model_id, args.tokens, workdir) for name, binary in binaries.items()}
        try:
            for mode, route, parameters in MODES:  # warm-up
                for server in servers.values():
                    server.time_request(route, parameters, args.tokens, workdir)
            # Rounds: the forward (tgi bench, while both servers sleep), then one request per mode
            # and binary. A round's overhead is its requests' ms/token minus its own forward p50,
            # so a burst of someone else's work hits both terms of the difference alike.
            forward = {name: [] for name in binaries}
            per_token = {(name, mode): [] for name in binaries for mode, _, _ in MODES}
            overhead = {(name, mode): [] for name in binaries for mode, _, _ in MODES}
            for _ in range(args.requests):
                p50 = {name: forward_ms(binary, args.model_id, args.tokens, workdir)[0]
                       for name, binary in binaries.items()}
                for name in binaries:
                    forward[name].append(p50[name])
                for mode, route, parameters in MODES:
                    for name, server in servers.items():
                        ms = server.time_request(route, parameters, args.tokens, workdir) * 1000 / args.tokens
                        per_token[(name, mode)].append(ms)
                        overhead[(name, mode)].append(ms - p50[name])
        finally:
            for server in servers.values():
                server.stop()
    for name, binary in binaries.items():
        print(f"{name}: {binary}\n  forward (tgi bench, batch 1 decode, p50 of {args.tokens} steps): "
              f"median {statistics.median(forward[name]):.3f} ms over {args.requests} rounds, "
              f"range {min(forward[name]):.3f}-{max(forward[name]):.3f}")
    print(f"\n{'mode':<30} {'binary':<9} {'ms/token':>9} {'overhead ms/token':>18} {'best overhead':>14}")
    for mode, _, _ in MODES:
        for name in binaries:
            print(f"{mode:<30} {name:<9} {statistics.median(per_token[(name, mode)]):9.3f} "
                  f"{statistics.median(overhead[(name, mode)]):18.3f} {min(overhead[(name, mode)]):14.3f}")
    print("ms/token and overhead: medians over the rounds; overhead = a request's ms/token minus the forward p50 "
          "measured by that binary's tgi bench in the same round")


if __name__ == "__main__":
    main()
