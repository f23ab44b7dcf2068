#!/usr/bin/env python3
"""End-to-end structured-output coverage/compliance benchmark for a running tgi-cpp server.

Every constraint goes through `POST /generate` (`parameters.grammar`), and every output the server
says it finished (finish_reason `eos_token`) is judged by an INDEPENDENT checker:

  * JSONSchemaBench schemas (<data>/jsonschema/*.jsonl.gz, grammar type `json`): the output must be
    strict JSON (no NaN/Infinity, no duplicate keys, no U+FFFD) and validate with Python `jsonschema`
    (validator class chosen by `$schema`, default Draft 2020-12; FormatChecker asserting date, time,
    date-time, duration, email, hostname, ipv4, ipv6, uuid; remote `$ref`s are never fetched). Rows
    marked `checkable: false` count for coverage and JSON well-formedness only.
  * regex.json (grammar type `regex`): the output must `re.fullmatch` the pattern.
  * gbnf/grammars.json (grammar type `gbnf`): outputs of grammars with a hand-written Python
    recognizer (below, self-tested against the file's valid/invalid examples) must be accepted by it;
    the others are only counted (finished / unfinished), or for json_arr checked for a necessary
    condition (parses as a JSON array).
  * schema-cases.json: `ok` -> 200 expected, `reject` -> 4xx required, `nonstandard` -> either;
    finished outputs validate; `bounded` cases must finish within max_new_tokens.

A refusal (4xx in TGI's error shape `{"error": str, "error_type": str}`) costs coverage only. A 5xx,
a connection failure, a timeout, a 4xx without TGI's error shape or a server crash is a hard failure.

Exit status 1 if any finished output is non-compliant, any hard failure occurred, a must-reject schema
was accepted, or a bounded probe (regex, bounded gbnf, bounded schema case) did not finish; else 0.

Usage (from the repository root):
  python3 bench/structured/compliance.py --per-category 30 --out /tmp/compliance.json
  python3 bench/structured/compliance.py --url http://127.0.0.1:3000 --all
See bench/structured/README.md.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import glob
import gzip
import hashlib
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib

try:
    import jsonschema
    import referencing
    import referencing.exceptions
except ImportError:  # pragma: no cover
    sys.exit("compliance.py needs the `jsonschema` package (pip install jsonschema)")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA = "/work/shared/structured"
DEFAULT_BINARY = os.path.join(REPO, "build", "test", "tgi")
DEFAULT_MODEL = os.path.join(REPO, "build", "test", "testdata", "models", "qwen3-tok")
ASSERTED_FORMATS = ["date", "time", "date-time", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"]
PROMPT = "Answer with one value that satisfies the constraint.\n"

# --------------------------------------------------------------------------------------------
# Independent validation
# --------------------------------------------------------------------------------------------


def _no_remote(uri):
    raise referencing.exceptions.NoSuchResource(ref=uri)


NO_REMOTE_REGISTRY = referencing.Registry(retrieve=_no_remote)

# Fallbacks for two formats whose jsonschema checkers need optional packages (isoduration, fqdn).
# Written here from the RFCs; used only when the installed jsonschema has no checker for them.
_DURATION_NUM = r"[0-9]+(?:[.,][0-9]+)?"
_DURATION_RE = re.compile(
    r"P(?=[0-9T])(?:{n}Y)?(?:{n}M)?(?:{n}W)?(?:{n}D)?(?:T(?=[0-9])(?:{n}H)?(?:{n}M)?(?:{n}S)?)?".format(n=_DURATION_NUM),
    re.ASCII)
_HOST_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)


def _is_duration(instance):
    if not isinstance(instance, str):
        return True
    return bool(_DURATION_RE.fullmatch(instance)) and instance[-1] in "YMWDHS"


def _is_hostname(instance):
    if not isinstance(instance, str):
        return True
    name = instance[:-1] if instance.endswith(".") else instance
    if not name or len(name) > 253:
        return False
    return all(_HOST_LABEL_RE.fullmatch(label) for label in name.split("."))


def make_format_checkers(which):
    """Returns (checker_for(validator_class), fallbacks). Each draft's formats keep that draft's
    meaning (jsonschema's <Draft>.FORMAT_CHECKER); any of the asserted formats a draft does not
    define is asserted with its 2020-12 meaning. Not jsonschema.FormatChecker(): its class-wide
    table binds `time` to draft 3's %H:%M:%S, which refuses RFC 3339 times ("12:00:00Z")."""
    modern = jsonschema.Draft202012Validator.FORMAT_CHECKER
    own = {"duration": _is_duration, "hostname": _is_hostname}
    fallbacks = sorted(n for n in own if n not in modern.checkers)
    cache = {}

    def checker_for(cls):
        if cls in cache:
            return cache[cls]
        base = getattr(cls, "FORMAT_CHECKER", None) or modern
        names = set(ASSERTED_FORMATS)
        if which == "all":
            names |= set(base.checkers) | set(modern.checkers)
        fc = jsonschema.FormatChecker(formats=())
        for name in sorted(names):
            if name in base.checkers:
                fc.checkers[name] = base.checkers[name]
            elif name in modern.checkers:
                fc.checkers[name] = modern.checkers[name]
            elif name in own:
                fc.checks(name)(own[name])
        cache[cls] = fc
        return fc

    return checker_for, fallbacks


class _Duplicate(ValueError):
    pass


def _pairs_no_dup(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate("duplicate object key %r" % k)
        out[k] = v
    return out


def _reject_constant(name):
    raise ValueError("non-JSON constant %s" % name)


def strict_json(text):
    """json.loads that refuses NaN/Infinity and duplicate keys. Returns (ok, value_or_error)."""
    try:
        return True, json.loads(text, object_pairs_hook=_pairs_no_dup, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        return False, "%s: %s" % (type(e).__name__, e)


def validate_instance(schema, instance, format_checker):
    """Returns (verdict, message): verdict 'valid' | 'invalid' | 'validator-error'."""
    try:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        validator = cls(schema, format_checker=format_checker(cls), registry=NO_REMOTE_REGISTRY)
        err = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    except Exception as e:  # unresolvable $ref, bad regex in the schema, recursion...
        return "validator-error", "%s: %s" % (type(e).__name__, str(e)[:300])
    if err is None:
        return "valid", ""
    path = "/".join(str(p) for p in err.absolute_path)
    return "invalid", "at /%s: %s (keyword %s)" % (path, str(err.message)[:300], err.validator)


# Hand-written recognizers for the GBNF grammars simple enough to restate exactly in Python.
def _balanced_parens(text):
    # root ::= "(" inner ")" ; inner ::= ("(" inner ")"){0,2}
    pos = 0

    def group():
        nonlocal pos
        if pos >= len(text) or text[pos] != "(":
            return False
        pos += 1
        for _ in range(2):
            if pos < len(text) and text[pos] == "(":
                if not group():
                    return False
            else:
                break
        if pos >= len(text) or text[pos] != ")":
            return False
        pos += 1
        return True

    try:
        return group() and pos == len(text)
    except RecursionError:
        return False


_T = r"(?:[1-9][0-9]{0,2}|\([1-9][0-9]?(?: \+ | - | \* | / )[1-9][0-9]?\))"
_CSV_F = r'(?:[a-zA-Z0-9]{1,10}|"[a-zA-Z0-9 ,]{0,10}")'
GBNF_CHECKERS = {
    "yes-no": re.compile(r"yes|no").fullmatch,
    "json-flag-object": re.compile(r'\{ {0,2}"ok" {0,2}: {0,2}(?:true|false) {0,2}\}').fullmatch,
    "kv-config": re.compile(r'(?:[a-z][a-z_]{0,11} = (?:true|false|[0-9]{1,4}|"[a-z]{0,10}")\n){1,4}').fullmatch,
    "csv-row": re.compile(_CSV_F + r"(?:," + _CSV_F + r"){2,5}\n").fullmatch,
    "xml-item": re.compile(r'<item id="[0-9]{1,4}">[a-zA-Z ]{0,20}</item>').fullmatch,
    "arithmetic-bounded": re.compile(_T + r"(?:(?: \+ | - | \* | / )" + _T + r"){0,4}").fullmatch,
    "unicode-greeting": re.compile("(?:こんにちは|Grüß Gott|¡Hola!) [A-ZÀ-Ý][a-zà-ÿ]{1,10}").fullmatch,
    "english": re.compile(r"[!-~]+(?:[ \t\n][!-~]+)*").fullmatch,
    "balanced-parens": _balanced_parens,
}


def _json_array_necessary(text):
    ok, v = strict_json(text)
    return ok and isinstance(v, list)


# Checks that are only a necessary condition of the grammar (a failure is still a real violation).
GBNF_PARTIAL = {"json_arr": _json_array_necessary}


def self_test_gbnf(grammars):
    problems = []
    for g in grammars:
        chk = GBNF_CHECKERS.get(g["id"]) or GBNF_PARTIAL.get(g["id"])
        if not chk:
            continue
        for s in g.get("valid", []):
            if not chk(s):
                problems.append("%s: checker refuses valid example %r" % (g["id"], s))
        if g["id"] in GBNF_CHECKERS:
            for s in g.get("invalid", []):
                if chk(s):
                    problems.append("%s: checker accepts invalid example %r" % (g["id"], s))
    return problems


# --------------------------------------------------------------------------------------------
# Server and requests
# --------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, args):
        self.proc = None
        self.log = None
        if args.url:
            self.url = args.url.rstrip("/")
            return
        port = args.port or free_port()
        prom = free_port()
        while prom == port:
            prom = free_port()
        self.url = "http://127.0.0.1:%d" % port
        cmd = [args.tgi_binary, "serve", "--model-id", args.model_id, "--hostname", "127.0.0.1",
               "--port", str(port), "--prometheus-port", str(prom),
               "--max-concurrent-requests", str(max(8, 4 * args.concurrency))]
        cmd += args.server_arg
        self.log_path = args.server_log
        self.log = open(self.log_path, "w")
        print("starting: %s (log %s)" % (" ".join(cmd), self.log_path), file=sys.stderr)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)

    def alive(self):
        return self.proc is None or self.proc.poll() is None

    def wait_healthy(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.alive():
                raise RuntimeError("server exited with %s before /health (see %s)" % (self.proc.returncode, self.log_path))
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError("server not healthy after %ss at %s" % (timeout, self.url))

    def stop(self):
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            rc = None  # stopped by us
        self.log.close()
        return rc


def is_tgi_error(body):
    return isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("error_type"), str)


def post_generate(url, grammar, seed, args):
    payload = {"inputs": args.prompt,
               "parameters": {"max_new_tokens": args.max_new_tokens, "do_sample": True, "seed": seed,
                              "details": True, "grammar": grammar}}
    data = json.dumps(payload).encode()
    req = urllib.request.Request(url + "/generate", data=data, headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    res = {"http": None, "latency_s": None}
    try:
        with urllib.request.urlopen(req, timeout=args.timeout) as r:
            raw = r.read()
            res["http"] = r.status
    except urllib.error.HTTPError as e:
        raw = e.read()
        res["http"] = e.code
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        res["latency_s"] = time.perf_counter() - t0
        res["transport_error"] = "%s: %s" % (type(e).__name__, e)
        return res
    res["latency_s"] = time.perf_counter() - t0
    try:
        res["body"] = json.loads(raw)
    except ValueError:
        res["body_text"] = raw[:500].decode("utf-8", "replace")
    return res


def case_seed(base, case_id):
    return (base * 1000003 + zlib.crc32(case_id.encode())) % (2 ** 31)


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


def sample_key(seed, case_id):
    return hashlib.sha256(("%d:%s" % (seed, case_id)).encode()).hexdigest()


def load_jsonschemabench(data_dir, per_category, take_all, seed, only, ids=()):
    cases = []
    for path in sorted(glob.glob(os.path.join(data_dir, "jsonschema", "*.jsonl.gz"))):
        category = os.path.basename(path)[: -len(".jsonl.gz")]
        if only and category not in only:
            continue
        with gzip.open(path, "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        if ids:
            rows = [r for r in rows if r["id"] in ids]
        if not take_all:
            rows = sorted(rows, key=lambda r: sample_key(seed, r["id"]))[:per_category]
        rows.sort(key=lambda r: r["id"])
        for r in rows:
            cases.append({"suite": "json", "category": category, "id": r["id"], "schema": r["schema"],
                          "checkable": r.get("checkable", True), "why_not_checkable": r.get("why_not_checkable"),
                          "grammar": {"type": "json", "value": r["schema"]}})
    return cases


def load_regex(data_dir):
    out = []
    for r in json.load(open(os.path.join(data_dir, "regex.json"), encoding="utf-8")):
        out.append({"suite": "regex", "category": "regex", "id": "regex:" + r["id"], "regex": r["regex"],
                    "bounded": r.get("bounded", True), "grammar": {"type": "regex", "value": r["regex"]}})
    return out


def load_gbnf(data_dir):
    grammars = json.load(open(os.path.join(data_dir, "gbnf", "grammars.json"), encoding="utf-8"))
    out = []
    for g in grammars:
        out.append({"suite": "gbnf", "category": "gbnf", "id": "gbnf:" + g["id"], "gid": g["id"],
                    "bounded": g.get("bounded", False), "grammar": {"type": "gbnf", "value": g["grammar"]}})
    return out, grammars


def load_schema_cases(data_dir):
    out = []
    for c in json.load(open(os.path.join(data_dir, "schema-cases.json"), encoding="utf-8")):
        out.append({"suite": "cases", "category": "cases:" + c["expect"], "id": "case:" + c["id"],
                    "schema": c["schema"], "expect": c["expect"], "bounded": c.get("bounded", False),
                    "checkable": True, "grammar": {"type": "json", "value": c["schema"]}})
    return out


# --------------------------------------------------------------------------------------------
# Judging one response
# --------------------------------------------------------------------------------------------


def judge(case, res, format_checker):
    """Fills res with: outcome ('ok'|'refused'|'hard'), finished, verdict, reason, and problems."""
    r = {"id": case["id"], "suite": case["suite"], "category": case["category"],
         "http": res.get("http"), "latency_s": res.get("latency_s")}
    problems = []  # strings; each makes the run fail
    body = res.get("body")
    if "transport_error" in res:
        r["outcome"] = "hard"
        r["reason"] = res["transport_error"]
    elif res["http"] >= 500:
        r["outcome"] = "hard"
        r["reason"] = "HTTP %d: %s" % (res["http"], json.dumps(body)[:300] if body is not None else res.get("body_text"))
    elif 400 <= res["http"] < 500:
        if is_tgi_error(body):
            r["outcome"] = "refused"
            r["reason"] = body["error"][:300]
            r["error_type"] = body["error_type"]
            if res["http"] != 422:
                r["note"] = "refused with HTTP %d (not 422)" % res["http"]
        else:
            r["outcome"] = "hard"
            r["reason"] = "HTTP %d without TGI's error shape: %s" % (
                res["http"], json.dumps(body)[:300] if body is not None else res.get("body_text"))
    elif res["http"] == 200 and isinstance(body, dict) and isinstance(body.get("generated_text"), str):
        r["outcome"] = "ok"
    else:
        r["outcome"] = "hard"
        r["reason"] = "HTTP %s with an unexpected body: %s" % (res["http"], (json.dumps(body) if body is not None else res.get("body_text", ""))[:300])
    if r["outcome"] == "hard":
        problems.append("hard failure: " + r["reason"])

    expect = case.get("expect")
    if expect == "reject" and r["outcome"] == "ok":
        problems.append("must-reject schema was accepted (200)")
    if r["outcome"] != "ok":
        r["problems"] = problems
        return r

    text = body["generated_text"]
    details = body.get("details") or {}
    r["finish_reason"] = details.get("finish_reason")
    r["generated_tokens"] = details.get("generated_tokens")
    r["output"] = text
    finished = r["finish_reason"] == "eos_token"
    r["finished"] = finished
    if case.get("bounded") and not finished:
        problems.append("bounded probe did not finish (finish_reason %s after %s tokens)" % (r["finish_reason"], r["generated_tokens"]))
    if not finished:
        r["verdict"] = "unfinished"
        r["problems"] = problems
        return r

    verdict, why = "valid", ""
    if "\ufffd" in text:
        verdict, why = "invalid", "output contains U+FFFD (invalid UTF-8 decoded)"
    elif case["suite"] in ("json", "cases"):
        ok, value = strict_json(text)
        if not ok:
            verdict, why = "invalid", "not strict JSON: " + value
        elif not case.get("checkable", True):
            verdict, why = "json-only", "well-formed JSON; schema not checkable: %s" % case.get("why_not_checkable")
        else:
            verdict, why = validate_instance(case["schema"], value, format_checker)
    elif case["suite"] == "regex":
        try:
            m = re.fullmatch(case["regex"], text)
        except re.error as e:
            verdict, why = "validator-error", "Python re cannot compile: %s" % e
        else:
            if not m:
                verdict, why = "invalid", "output does not fullmatch the regex"
    elif case["suite"] == "gbnf":
        gid = case["gid"]
        if gid in GBNF_CHECKERS:
            if not GBNF_CHECKERS[gid](text):
                verdict, why = "invalid", "output not in the grammar's language (Python recognizer)"
        elif gid in GBNF_PARTIAL:
            if not GBNF_PARTIAL[gid](text):
                verdict, why = "invalid", "output fails a necessary condition of the grammar (JSON array)"
            else:
                verdict, why = "partial", "passes a necessary condition only (parses as a JSON array)"
        else:
            verdict, why = "unchecked", "no independent recognizer for this grammar"
    r["verdict"] = verdict
    if why:
        r["verdict_detail"] = why
    if verdict == "invalid":
        problems.append("non-compliant finished output: " + why)
    r["problems"] = problems
    return r


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def pct(a, b):
    return "%.1f%%" % (100.0 * a / b) if b else "-"


def quantile(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    i = (len(xs) - 1) * q
    lo, hi = math.floor(i), math.ceil(i)
    return xs[lo] + (xs[hi] - xs[lo]) * (i - lo)


def summarize(rows):
    s = {"schemas": len(rows)}
    s["compiled"] = sum(r["outcome"] == "ok" for r in rows)
    s["refused"] = sum(r["outcome"] == "refused" for r in rows)
    s["hard_failures"] = sum(r["outcome"] == "hard" for r in rows)
    fin = [r for r in rows if r.get("finished")]
    s["finished"] = len(fin)
    s["unfinished"] = sum(r["outcome"] == "ok" and not r.get("finished") for r in rows)
    s["finished_checked"] = sum(r["verdict"] in ("valid", "invalid") for r in fin)
    s["finished_valid"] = sum(r["verdict"] == "valid" for r in fin)
    s["finished_invalid"] = sum(r["verdict"] == "invalid" for r in fin)
    s["finished_unchecked"] = sum(r["verdict"] not in ("valid", "invalid") for r in fin)
    s["validator_errors"] = sum(r.get("verdict") == "validator-error" for r in fin)
    lat = [r["latency_s"] for r in rows if r["outcome"] == "ok" and r["latency_s"] is not None]
    s["latency_p50_s"] = quantile(lat, 0.5)
    s["latency_p90_s"] = quantile(lat, 0.9)
    s["latency_max_s"] = max(lat) if lat else None
    toks = [r["generated_tokens"] for r in rows if r["outcome"] == "ok" and r.get("generated_tokens")]
    s["tokens_p50"] = quantile(toks, 0.5)
    return s


COLS = [("category", 16), ("schemas", 7), ("compiled", 14), ("finished", 8), ("fin&valid", 9),
        ("compliance", 10), ("unfinished", 10), ("unchecked", 9), ("hard", 4), ("p50 ms", 7), ("p50 tok", 7)]


def table_row(name, s):
    comp = pct(s["finished_valid"], s["finished_checked"])
    p50 = "%.0f" % (1000 * s["latency_p50_s"]) if s["latency_p50_s"] is not None else "-"
    tok = "%.0f" % s["tokens_p50"] if s["tokens_p50"] is not None else "-"
    vals = [name, s["schemas"], "%d (%s)" % (s["compiled"], pct(s["compiled"], s["schemas"])), s["finished"],
            s["finished_valid"], comp, s["unfinished"], s["finished_unchecked"], s["hard_failures"], p50, tok]
    return "  ".join(str(v).rjust(w) if i else str(v).ljust(w) for i, ((_, w), v) in enumerate(zip(COLS, vals)))


def print_table(title, groups, total_name="overall"):
    print("\n" + title)
    print("  ".join(n.rjust(w) if i else n.ljust(w) for i, (n, w) in enumerate(COLS)))
    for name, rows in groups:
        print(table_row(name, summarize(rows)))
    if len(groups) > 1:
        allrows = [r for _, rows in groups for r in rows]
        print(table_row(total_name, summarize(allrows)))


def short(text, n=240):
    t = json.dumps(text, ensure_ascii=False)
    return t if len(t) <= n else t[:n] + "...(%d chars)" % len(text)


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="use this running server instead of starting one")
    ap.add_argument("--tgi-binary", default=DEFAULT_BINARY)
    ap.add_argument("--model-id", default=DEFAULT_MODEL)
    ap.add_argument("--port", type=int, default=0, help="port for the started server (default: a free one)")
    ap.add_argument("--server-arg", action="append", default=[], help="extra argument for `tgi serve` (repeatable)")
    ap.add_argument("--server-log", default="/tmp/tgi-compliance-server.log")
    ap.add_argument("--data", default=DEFAULT_DATA, help="structured test data folder (default %(default)s)")
    ap.add_argument("--per-category", type=int, default=40, help="schemas sampled per JSONSchemaBench category")
    ap.add_argument("--all", action="store_true", help="every public JSONSchemaBench schema")
    ap.add_argument("--categories", default="", help="comma-separated JSONSchemaBench categories (default all)")
    ap.add_argument("--ids", default="", help="comma-separated JSONSchemaBench ids to run (with --all: exactly these)")
    ap.add_argument("--suites", default="json,regex,gbnf,cases", help="subset of json,regex,gbnf,cases")
    ap.add_argument("--max-new-tokens", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0, help="sampling seed base and schema-sample seed")
    ap.add_argument("--prompt", default=PROMPT)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per request")
    ap.add_argument("--formats", choices=["acceptance", "all"], default="acceptance",
                    help="formats asserted: the acceptance check's nine (default) or every installed checker")
    ap.add_argument("--out", default="compliance-results.json", help="JSON results file")
    args = ap.parse_args()

    suites = set(filter(None, args.suites.split(",")))
    only = set(filter(None, args.categories.split(",")))
    format_checker, fallbacks = make_format_checkers(args.formats)

    cases = []
    if "json" in suites:
        cases += load_jsonschemabench(args.data, args.per_category, args.all, args.seed, only,
                                      set(filter(None, args.ids.split(","))))
    if "regex" in suites:
        cases += load_regex(args.data)
    grammars = []
    if "gbnf" in suites:
        gcases, grammars = load_gbnf(args.data)
        cases += gcases
    if "cases" in suites:
        cases += load_schema_cases(args.data)
    problems = self_test_gbnf(grammars)
    if problems:
        sys.exit("GBNF recognizer self-test failed:\n  " + "\n  ".join(problems))
    if fallbacks:
        print("note: jsonschema lacks checkers for %s; using this script's own RFC-based checks" % ", ".join(fallbacks),
              file=sys.stderr)

    server = Server(args)
    results = []
    t_start = time.time()
    crashed = None
    try:
        server.wait_healthy(120)
        print("server %s healthy; %d requests, concurrency %d" % (server.url, len(cases), args.concurrency), file=sys.stderr)
        lock = threading.Lock()
        done = [0]

        def run(case):
            if not server.alive():
                res = {"http": None, "latency_s": 0.0, "transport_error": "server process is gone"}
            else:
                res = post_generate(server.url, case["grammar"], case_seed(args.seed, case["id"]), args)
            r = judge(case, res, format_checker)
            r["seed"] = case_seed(args.seed, case["id"])
            with lock:
                done[0] += 1
                if done[0] % 25 == 0 or r["problems"]:
                    print("[%d/%d %.0fs] %s %s%s" % (done[0], len(cases), time.time() - t_start, case["id"], r["outcome"],
                                                     (" PROBLEM: " + "; ".join(r["problems"])) if r["problems"] else ""),
                          file=sys.stderr)
            return r

        with cf.ThreadPoolExecutor(max_workers=max(1, args.concurrency)) as pool:
            results = list(pool.map(run, cases))
        if not server.alive():
            crashed = server.proc.returncode
    finally:
        rc = server.stop()
        if rc is not None and crashed is None:
            crashed = rc
    wall = time.time() - t_start

    # ---------------------------------------------------------------- tables
    by_cat = {}
    for r in results:
        by_cat.setdefault(r["category"], []).append(r)
    json_groups = [(c, by_cat[c]) for c in sorted(by_cat) if by_cat[c][0]["suite"] == "json"]
    if json_groups:
        print_table("JSONSchemaBench (grammar type json; %s; max_new_tokens %d)" % (
            "all public schemas" if args.all else "%d sampled per category" % args.per_category, args.max_new_tokens),
            json_groups)
    other = [(c, by_cat[c]) for c in sorted(by_cat) if by_cat[c][0]["suite"] != "json"]
    if other:
        print_table("regex / gbnf / schema-cases", other, total_name="all of these")

    print("\ncolumns: compiled = 200 (not refused); finished = finish_reason eos_token; fin&valid = finished and "
          "passes the independent check; compliance = fin&valid / finished-and-checkable; unchecked = finished but "
          "not judged against the constraint (non-checkable schema: JSON well-formedness only; GBNF without a "
          "recognizer); p50 ms = request latency of 200s.")

    all_lat = [r["latency_s"] for r in results if r["outcome"] == "ok"]
    if all_lat:
        print("latency over %d successful requests: p50 %.0f ms, p90 %.0f ms, p99 %.0f ms, max %.0f ms; wall %.0f s" % (
            len(all_lat), 1000 * quantile(all_lat, .5), 1000 * quantile(all_lat, .9), 1000 * quantile(all_lat, .99),
            1000 * max(all_lat), wall))

    slow = sorted((r for r in results if r["outcome"] == "ok"), key=lambda r: -r["latency_s"])[:5]
    if slow:
        print("slowest: " + ", ".join("%s %.1f s (%s tok)" % (r["id"], r["latency_s"], r.get("generated_tokens"))
                                      for r in slow))

    # refusal reasons
    reasons = {}
    for r in results:
        if r["outcome"] == "refused" and r["suite"] == "json":
            key = re.sub(r"'[^']*'|\"[^\"]*\"|#/[^ ,)]*|[0-9]+", "…", r["reason"])[:150]
            reasons.setdefault(key, []).append(r["id"])
    if reasons:
        print("\ntop refusal reasons (JSONSchemaBench):")
        for k, ids in sorted(reasons.items(), key=lambda kv: -len(kv[1]))[:12]:
            print("  %4d  %s   e.g. %s" % (len(ids), k, ids[0]))

    # probes / expectations
    notes = []
    for r in results:
        if r["suite"] == "cases" and r["category"] == "cases:ok" and r["outcome"] == "refused":
            notes.append("%s: expected ok, refused: %s" % (r["id"], r["reason"]))
        if r["suite"] in ("regex", "gbnf") and r["outcome"] == "refused":
            notes.append("%s: refused: %s" % (r["id"], r["reason"]))
        if r.get("verdict") == "validator-error":
            notes.append("%s: validator could not judge: %s" % (r["id"], r.get("verdict_detail")))
        if r.get("note"):
            notes.append("%s: %s" % (r["id"], r["note"]))
    if notes:
        print("\nnotes (coverage misses on probes, validator errors; not failures):")
        for n in notes:
            print("  " + n)

    failing = [r for r in results if r["problems"]]
    noncompliant = [r for r in results if r.get("verdict") == "invalid"]
    print("\nnon-compliant finished outputs: %s" % (len(noncompliant) or "none"))
    for r in noncompliant:
        print("  %s [%s] seed %s: %s\n    output: %s" % (r["id"], r["category"], r["seed"], r.get("verdict_detail"),
                                                         short(r["output"])))
    hard = [r for r in results if r["outcome"] == "hard"]
    n5xx = sum(1 for r in hard if r.get("http") and r["http"] >= 500)
    print("hard failures: %d (5xx: %d)%s" % (len(hard), n5xx, "; server crashed (exit %s)" % crashed if crashed is not None else ""))
    for r in hard:
        print("  %s: %s" % (r["id"], r["reason"]))
    other_fail = [r for r in failing if r not in noncompliant and r not in hard]
    if other_fail:
        print("probe/expectation failures: %d" % len(other_fail))
        for r in other_fail:
            print("  %s: %s%s" % (r["id"], "; ".join(r["problems"]),
                                 ("\n    output: " + short(r["output"])) if r.get("output") is not None else ""))

    summary = {
        "config": {k: v for k, v in vars(args).items()},
        "server_url": server.url, "wall_s": wall, "server_crashed_exit": crashed,
        "format_checker_2020_12": sorted(format_checker(jsonschema.Draft202012Validator).checkers),
        "format_fallbacks": fallbacks,
        "jsonschema_version": _pkg_version("jsonschema"),
        "summary": {"jsonschemabench": summarize([r for _, rows in json_groups for r in rows]) if json_groups else None,
                    "per_category": {c: summarize(rows) for c, rows in json_groups + other}},
        "noncompliant": [r["id"] for r in noncompliant], "hard_failures": [r["id"] for r in hard],
        "failures": [{"id": r["id"], "problems": r["problems"]} for r in failing],
        "results": results,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1, ensure_ascii=False)
    print("results: %s" % args.out)
    status = 1 if (failing or crashed is not None) else 0
    print("exit status %d" % status)
    return status


def _pkg_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
