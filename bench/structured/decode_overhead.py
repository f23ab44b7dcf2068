#!/usr/bin/env python3
"""Decode speed with a JSON-Schema grammar against the same decode without one, on a real model.

    bench/structured/decode_overhead.py [--binary PATH] [--model-id PATH] [--tokens T] [--rounds R]

Starts `tgi serve` on the model (default: the 1.1B bench model /work/tinyllama.q4_0.gguf, made by
bench/make-tinyllama.py and `tgi convert`), then per round and per batch size (1 and 8) streams
T tokens per request from /generate_stream, unconstrained and with a grammar, in turn, so both
see the same machine. Decode tokens/s of a request = (tokens - 1) / (last token time - first
token time); at batch 8 the rate is the sum over the 8 concurrent streams. The grammar is an
object holding at least 100 objects with a string and an integer, so every constrained stream
runs to T tokens (a run that ends early is reported, not hidden). Prints medians over
the rounds and the ratio grammar / unconstrained, with the CPU it ran on.
"""
import argparse
import http.client
import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SCHEMA = {
    "type": "object",
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string", "maxLength": 40}, "id": {"type": "integer"}},
                "required": ["name", "id"],
            },
            "minItems": 100,  # cannot end within the token budget, so every stream runs to T
        }
    },
    "required": ["items"],
}


def cpu_description():
    model, flags = "unknown CPU", ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and model == "unknown CPU":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = line
    except OSError:
        pass
    isa = "AVX-512" if " avx512f" in flags else ("AVX2" if " avx2" in flags else "no AVX2")
    return f"{model}, {os.cpu_count()} cores, {isa}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream(port, body, out, index):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/generate_stream", json.dumps(body), {"content-type": "application/json"})
    resp = conn.getresponse()
    times, finish, buffer = [], None, b""
    while True:
        chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(1)
        if not chunk:
            break
        buffer += chunk
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            for line in event.split(b"\n"):
                if line.startswith(b"data:"):
                    data = json.loads(line[5:])
                    if "token" in data:
                        times.append(time.perf_counter())
                    if data.get("details"):
                        finish = data["details"].get("finish_reason")
    conn.close()
    out[index] = (times, finish)


def run_batch(port, batch, tokens, grammar, round_index):
    bodies = []
    for i in range(batch):
        params = {"max_new_tokens": tokens, "do_sample": True, "seed": 1000 * round_index + i, "top_k": 40}
        if grammar:
            params["grammar"] = {"type": "json", "value": SCHEMA}
        bodies.append({"inputs": f"List the items, as JSON (request {i}):", "parameters": params})
    out = [None] * batch
    threads = [threading.Thread(target=stream, args=(port, b, out, i)) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rate = 0.0
    short = 0
    for times, finish in out:
        if len(times) < 2:
            continue
        rate += (len(times) - 1) / (times[-1] - times[0])
        if len(times) < tokens:
            short += 1
    return rate, short


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / "build/release/tgi"))
    ap.add_argument("--model-id", default="/work/tinyllama.q4_0.gguf")
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batches", default="1,8")
    args = ap.parse_args()
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="tgi-decode-overhead-", suffix=".log", delete=False)
    server = subprocess.Popen([args.binary, "serve", "--model-id", args.model_id, "--port", str(port), "--hostname",
                               "127.0.0.1", "--prometheus-port", "0", "--max-batch-size", "8",
                               "--max-concurrent-requests", "16"], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(1200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None:
                sys.exit(f"server exited; log in {log.name}")
            time.sleep(0.25)
        print(f"CPU: {cpu_description()}; model {args.model_id}; {args.tokens} tokens per request; "
              f"{args.rounds} rounds")
        run_batch(port, 1, 8, True, 99)  # warm-up: the vocabulary trie is built on first use
        for batch in [int(b) for b in args.batches.split(",")]:
            free, constrained, shorts = [], [], 0
            for r in range(args.rounds):
                rate, _ = run_batch(port, batch, args.tokens, False, r)
                free.append(rate)
                rate, short = run_batch(port, batch, args.tokens, True, r)
                constrained.append(rate)
                shorts += short
            f, c = statistics.median(free), statistics.median(constrained)
            print(f"batch {batch}: unconstrained {f:.1f} tok/s, json-schema grammar {c:.1f} tok/s, "
                  f"ratio {c / f:.3f} (runs: {[round(x, 1) for x in free]} vs {[round(x, 1) for x in constrained]}; "
                  f"{shorts} constrained streams ended before {args.tokens} tokens)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
