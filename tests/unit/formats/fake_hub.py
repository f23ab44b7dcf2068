#!/usr/bin/env python3
"""A tiny stand-in for the Hugging Face hub, for download tests (loopback only).

Serves one directory as repository REPO_ID at one commit with the hub's URL scheme:
  GET  /api/models/{repo}/revision/{rev}  -> {"id", "sha", "siblings": [{"rfilename"}]}
  HEAD/GET /{repo}/resolve/{rev}/{file}   -> ETag (sha256 for *.safetensors as LFS does,
                                             git blob sha1 otherwise), X-Repo-Commit, Range
Prints the port it listens on, then serves until killed. Every request is appended to --log as
"METHOD PATH RANGE AUTH".
"""
import argparse
import hashlib
import http.server
import json
import os
import sys
import threading

args = None
interrupted = set()
lock = threading.Lock()


def etag_of(name, data):
    if name.endswith(".safetensors"):
        return hashlib.sha256(data).hexdigest()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Hub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def record(self):
        if args.log:
            with lock, open(args.log, "a") as f:
                f.write("%s %s %s %s\n" % (self.command, self.path, self.headers.get("Range", "-"),
                                           self.headers.get("Authorization", "-")))

    def fail(self, status, code=None, body=b"error"):
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def authorized(self):
        if args.token is None:
            return True
        return self.headers.get("Authorization") == "Bearer " + args.token

    def files(self):
        return sorted(f for f in os.listdir(args.dir) if os.path.isfile(os.path.join(args.dir, f)))

    def do_HEAD(self):
        self.handle_request()

    def do_GET(self):
        self.handle_request()

    def handle_request(self):
        self.record()
        if not self.authorized():
            return self.fail(401, None, b"Invalid credentials")
        path = self.path
        api_prefix = "/api/models/%s/revision/" % args.repo
        file_prefix = "/%s/resolve/" % args.repo
        if path.startswith("/api/models/"):
            if not path.startswith(api_prefix):
                return self.fail(404, "RepoNotFound", b"Repository not found")
            rev = path[len(api_prefix):]
            if rev not in ("main", args.commit):
                return self.fail(404, "RevisionNotFound", b"Invalid rev id")
            body = json.dumps({"id": args.repo, "sha": args.commit,
                               "siblings": [{"rfilename": f} for f in self.files() + ["README.md", "pytorch_model.bin"]]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)
            return
        if not path.startswith(file_prefix):
            return self.fail(404, "RepoNotFound", b"Repository not found")
        rev, _, name = path[len(file_prefix):].partition("/")
        if rev not in ("main", args.commit):
            return self.fail(404, "RevisionNotFound", b"Invalid rev id")
        if name not in self.files():
            return self.fail(404, "EntryNotFound", b"Entry not found")
        with open(os.path.join(args.dir, name), "rb") as f:
            data = f.read()
        etag = etag_of(name, data)
        if name in args.corrupt:
            data = bytes(b ^ 0xFF for b in data)
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[len("bytes="):-1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(206 if start else 200)
        self.send_header("ETag", '"%s"' % etag)
        self.send_header("X-Repo-Commit", args.commit)
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        if self.command == "HEAD":
            return
        body = data[start:]
        with lock:
            cut = name in args.interrupt and name not in interrupted
            if cut:
                interrupted.add(name)
        if cut:
            # Send part of the body, then drop the connection: the client must resume with Range.
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--commit", default="0123456789abcdef0123456789abcdef01234567")
    p.add_argument("--token")
    p.add_argument("--interrupt", action="append", default=[])
    p.add_argument("--corrupt", action="append", default=[])
    p.add_argument("--log")
    args = p.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
