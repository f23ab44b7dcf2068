// Reliability of `tgi serve` under heavy and hostile traffic (run by reliability.test.sh, which
// starts three servers). Every wait is bounded; no assertion depends on how fast the machine is,
// only timeouts that detect a hang do.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";

const BASE_URL = process.env.BASE_URL;
const PORT = Number(process.env.PORT);
const SERVER_PID = Number(process.env.SERVER_PID);
const KV_BASE_URL = process.env.KV_BASE_URL;
// The server with 2-second idle, header and body limits (the others keep the defaults, so a
// loaded machine cannot turn a slow client of theirs into a timeout).
const TIMEOUTS_BASE_URL = process.env.TIMEOUTS_BASE_URL;
const TIMEOUTS_PORT = Number(process.env.TIMEOUTS_PORT);
const TIMEOUTS_PID = Number(process.env.TIMEOUTS_PID);
const DRAIN_BASE_URL = process.env.DRAIN_BASE_URL;
const DRAIN_PORT = Number(process.env.DRAIN_PORT);
const DRAIN_PID = Number(process.env.DRAIN_PID);
const DRAIN_LOG = process.env.DRAIN_LOG;
const IDLE_TIMEOUT_MS = Number(process.env.IDLE_TIMEOUT_S) * 1000;
const HEADER_TIMEOUT_MS = Number(process.env.HEADER_TIMEOUT_S) * 1000;
const BODY_TIMEOUT_MS = Number(process.env.BODY_TIMEOUT_S) * 1000;
const KV_PORT = Number(new URL(process.env.KV_BASE_URL).port);
const KV_MAX_CONNECTIONS = Number(process.env.KV_MAX_CONNECTIONS);
const HOSTILE_DIR = process.env.HOSTILE_DIR;
const MiB = 1024 * 1024;
// How late a server-side timeout may fire on a loaded 2-core machine before it counts as missing.
const TIMER_SLACK_MS = 6000;

// ---------------------------------------------------------------------------------------------
// Helpers

const now = () => performance.now();

// An error's message with the transport cause fetch hides behind "fetch failed".
const why = (error) => `${error?.message}${error?.cause ? ` (${error.cause.code ?? error.cause.message})` : ""}`;

// Every helper request closes its connection: the main server closes idle keep-alive connections
// after 2 s, and a pooled connection reused just as the server closes it would fail the request
// for a reason that is not the server's fault.
async function post(base, route, body, { signal, timeoutMs = 300000 } = {}) {
  const timeout = AbortSignal.timeout(timeoutMs);
  return fetch(base + route, {
    method: "POST",
    headers: { "content-type": "application/json", connection: "close" },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
}

async function get(base, route, timeoutMs = 20000) {
  const response = await fetch(base + route, { headers: { connection: "close" }, signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, text: await response.text() };
}

async function metrics(base) {
  const { status, text } = await get(base, "/metrics");
  assert.equal(status, 200, "GET /metrics");
  const values = new Map();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

const GAUGES = ["tgi_queue_size", "tgi_batch_current_size", "tgi_kv_cache_blocks_used"];

// Polls /metrics until the queue, the running batch and the KV blocks in use are all 0.
async function waitIdle(base, what, timeoutMs = 30000) {
  const deadline = now() + timeoutMs;
  let last;
  for (;;) {
    const m = await metrics(base);
    last = GAUGES.map((name) => `${name}=${m.get(name)}`).join(" ");
    for (const name of GAUGES) assert.ok(m.has(name), `/metrics has ${name}`);
    if (GAUGES.every((name) => m.get(name) === 0)) return m;
    if (now() > deadline) assert.fail(`${what}: the server did not return to idle within ${timeoutMs} ms (${last})`);
    await sleep(100);
  }
}

// Samples a process's peak RSS every `ms` until stopped; a vanished process ends the sampling.
function rssSampler(pid, ms) {
  const sampler = { peak: rssBytes(pid) };
  const timer = setInterval(() => {
    try {
      sampler.peak = Math.max(sampler.peak, rssBytes(pid));
    } catch {
      clearInterval(timer);
    }
  }, ms);
  sampler.stop = () => {
    clearInterval(timer);
    try {
      sampler.peak = Math.max(sampler.peak, rssBytes(pid));
    } catch {}
    return sampler.peak;
  };
  return sampler;
}

function rssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const match = status.match(/^VmRSS:\s+(\d+) kB$/m);
  assert.ok(match, `VmRSS of ${pid}`);
  return Number(match[1]) * 1024;
}

// Whether the process is running (not gone, not a zombie).
function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function assertHealthy(base, pid, what) {
  if (pid) assert.ok(alive(pid), `${what}: the server process is alive`);
  const health = await get(base, "/health");
  assert.equal(health.status, 200, `${what}: GET /health`);
}

// Splits an SSE body into its `data:` payloads; anything that is not a data line, a comment or
// the blank separator is garbage. A body that stops in the middle of an event is garbage too.
function sseData(text, what) {
  assert.ok(text.endsWith("\n\n") || text === "", `${what}: the stream ends on an event boundary`);
  const data = [];
  for (const event of text.split("\n\n")) {
    if (event === "") continue;
    for (const line of event.split("\n")) {
      if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
      else assert.ok(line.startsWith(":"), `${what}: unexpected SSE line ${JSON.stringify(line.slice(0, 200))}`);
    }
  }
  return data;
}

// The outcome of a /generate_stream body: every event parses, indexes count from 1, only the last
// event carries generated_text and details.
function generateStreamOutcome(text, what) {
  const events = sseData(text, what).map((d) => JSON.parse(d));
  assert.ok(events.length > 0, `${what}: at least one event`);
  events.forEach((event, k) => {
    assert.equal(event.error, undefined, `${what}: error event ${JSON.stringify(event)}`);
    assert.equal(event.index, k + 1, `${what}: event index`);
    if (k < events.length - 1) assert.equal(event.generated_text, null, `${what}: only the last event is final`);
  });
  const final = events.at(-1);
  assert.equal(typeof final.generated_text, "string", `${what}: the stream ends with a final event`);
  assert.ok(final.details, `${what}: the final event has details`);
  return {
    text: final.generated_text,
    finish: final.details.finish_reason,
    tokens: final.details.generated_tokens,
    ids: events.map((e) => e.token.id),
  };
}

function generateOutcome(body) {
  assert.equal(typeof body.generated_text, "string");
  return {
    text: body.generated_text,
    finish: body.details.finish_reason,
    tokens: body.details.generated_tokens,
    ids: body.details.tokens.map((t) => t.id),
  };
}

function chatStreamOutcome(text, what) {
  const data = sseData(text, what);
  assert.equal(data.at(-1), "[DONE]", `${what}: the stream ends with [DONE]`);
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  assert.ok(chunks.length > 0, `${what}: at least one chunk`);
  let content = "";
  chunks.forEach((chunk, k) => {
    assert.equal(chunk.error, undefined, `${what}: error chunk ${JSON.stringify(chunk)}`);
    assert.equal(chunk.object, "chat.completion.chunk", `${what}: chunk object`);
    assert.equal(chunk.choices.length, 1, `${what}: one choice per chunk`);
    content += chunk.choices[0].delta.content ?? "";
    if (k < chunks.length - 1) assert.equal(chunk.choices[0].finish_reason, null, `${what}: only the last chunk finishes`);
  });
  const finish = chunks.at(-1).choices[0].finish_reason;
  assert.equal(typeof finish, "string", `${what}: the last chunk has a finish reason`);
  return { text: content, finish, tokens: chunks.length };
}

function chatOutcome(body) {
  const choice = body.choices[0];
  return { text: choice.message.content, finish: choice.finish_reason, tokens: body.usage.completion_tokens };
}

// Sends one of the four kinds of request and reduces the answer to what greedy decoding fixes.
async function outcomeOf(base, request, what) {
  const response = await post(base, request.route, request.body);
  const text = await response.text();
  assert.equal(response.status, 200, `${what}: status (body ${text.slice(0, 300)})`);
  switch (request.kind) {
    case "generate":
      return generateOutcome(JSON.parse(text));
    case "generate_stream":
      return generateStreamOutcome(text, what);
    case "chat":
      return chatOutcome(JSON.parse(text));
    case "chat_stream":
      return chatStreamOutcome(text, what);
  }
  throw new Error(`unknown kind ${request.kind}`);
}

// A raw TCP connection that records what it receives and when it closes.
const rawSockets = new Set();
after(() => {
  for (const socket of rawSockets) socket.destroy();
});

async function rawConnect(port) {
  const socket = net.connect({ port, host: "127.0.0.1" });
  rawSockets.add(socket);
  const state = { socket, chunks: [], bytes: 0, ended: false, closed: false, closedAt: 0, error: null };
  socket.on("data", (d) => {
    state.chunks.push(d);
    state.bytes += d.length;
  });
  socket.on("end", () => (state.ended = true));
  socket.on("error", (e) => (state.error = e));
  socket.on("close", () => {
    rawSockets.delete(socket);
    state.closed = true;
    state.closedAt = now();
  });
  state.buffer = () => Buffer.concat(state.chunks);
  state.text = () => state.buffer().toString("latin1");
  await Promise.race([once(socket, "connect"), once(socket, "close")]);
  assert.ok(!state.closed, `connect to ${port}: ${state.error?.message}`);
  return state;
}

async function waitFor(condition, timeoutMs, step = 20) {
  const deadline = now() + timeoutMs;
  while (!condition()) {
    if (now() > deadline) return false;
    await sleep(step);
  }
  return true;
}

function httpRequest(method, route, body = null, extraHeaders = "") {
  const payload = body === null ? "" : typeof body === "string" ? body : JSON.stringify(body);
  return (
    `${method} ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    (body === null ? "" : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n`) +
    extraHeaders +
    "\r\n" +
    payload
  );
}

// Parses the HTTP/1.1 responses in a byte stream; the last one may be incomplete.
function parseResponses(buffer) {
  const responses = [];
  let pos = 0;
  while (pos < buffer.length) {
    const headEnd = buffer.indexOf("\r\n\r\n", pos);
    if (headEnd < 0) {
      responses.push({ status: 0, headers: {}, body: buffer.subarray(pos), complete: false });
      break;
    }
    const [statusLine, ...lines] = buffer.subarray(pos, headEnd).toString("latin1").split("\r\n");
    const match = statusLine.match(/^HTTP\/1\.1 (\d{3}) /);
    assert.ok(match, `garbled status line ${JSON.stringify(statusLine.slice(0, 100))}`);
    const headers = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const response = { status: Number(match[1]), headers, body: Buffer.alloc(0), complete: false };
    responses.push(response);
    let p = headEnd + 4;
    if ((headers["transfer-encoding"] ?? "").includes("chunked")) {
      const parts = [];
      for (;;) {
        const lineEnd = buffer.indexOf("\r\n", p);
        if (lineEnd < 0) break;
        const size = parseInt(buffer.subarray(p, lineEnd).toString("latin1"), 16);
        assert.ok(Number.isInteger(size), "garbled chunk size");
        if (lineEnd + 2 + size + 2 > buffer.length) break;
        parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
        if (size === 0) {
          response.complete = true;
          break;
        }
      }
      response.body = Buffer.concat(parts);
      if (!response.complete) break;
    } else {
      const length = Number(headers["content-length"] ?? 0);
      response.body = buffer.subarray(p, Math.min(buffer.length, p + length));
      if (p + length > buffer.length) break;
      response.complete = true;
      p += length;
    }
    pos = p;
  }
  return responses;
}

// ---------------------------------------------------------------------------------------------
// 7. Hostile bodies (first: every later test also checks the server survived them)

// What the corpus files promise beyond "a 4xx with a body": by file-name prefix.
const PARSE = "Failed to parse the request body as JSON: ";
const SHAPE = "Failed to deserialize the JSON body into the target type: ";
const EXPECTATIONS = [
  [/^num-/, 400, PARSE + "number out of range"],
  [/^depth-/, 400, PARSE + "recursion limit exceeded"],
  [/^(json|utf8|surrogate|empty-body)-/, 400, PARSE],
  [/^(tool-calls|chat-logit-bias|chat-wrong-type|generate-wrong-type|generate-missing|generate-stream-wrong-type)-/, 422, SHAPE],
  [/^(max-new-tokens|chat-max-tokens|completions-max-tokens|completions-wrong-type|tokenize-wrong-type|seed|top-k)-/, 422, SHAPE],
  [/^(chat-n|top)-/, 422, ""],
];

function loadCorpus() {
  const files = fs.readdirSync(HOSTILE_DIR).filter((f) => f.endsWith(".case")).sort();
  return files.map((file) => {
    const raw = fs.readFileSync(path.join(HOSTILE_DIR, file));
    const newline = raw.indexOf(0x0a);
    return { name: file.slice(0, -5), route: raw.subarray(0, newline).toString("utf8"), body: raw.subarray(newline + 1) };
  });
}

async function assertRejected(route, body, what, expectedStatus, expectedPrefix) {
  let response;
  try {
    response = await post(BASE_URL, route, body, { timeoutMs: 30000 });
  } catch (error) {
    assert.fail(`${what}: the request failed at the transport level (${error.cause?.code ?? error.message})`);
  }
  const text = await response.text();
  assert.ok([400, 413, 415, 422].includes(response.status), `${what}: status ${response.status} (${text.slice(0, 200)})`);
  assert.ok(text.length > 0, `${what}: a ${response.status} has a non-empty body`);
  if (expectedStatus) assert.equal(response.status, expectedStatus, `${what}: status (body ${text.slice(0, 200)})`);
  if (expectedPrefix) assert.ok(text.startsWith(expectedPrefix), `${what}: body ${JSON.stringify(text.slice(0, 200))} starts with ${JSON.stringify(expectedPrefix)}`);
}

test("hostile bodies: every case of tests/fuzz/corpus/http_body is a 4xx with a body, never a 5xx or a reset", { timeout: 120000 }, async () => {
  const corpus = loadCorpus();
  assert.ok(corpus.length >= 100, `the corpus has its cases (${corpus.length})`);
  const failures = [];
  for (const { name, route, body } of corpus) {
    assert.ok(route.startsWith("/"), `${name}: first line is a route`);
    const rule = EXPECTATIONS.find(([pattern]) => pattern.test(name));
    try {
      await assertRejected(route, body, `hostile/${name} -> POST ${route}`, rule?.[1], rule?.[2]);
    } catch (error) {
      failures.push(error.message);
    }
  }
  await assertHealthy(BASE_URL, SERVER_PID, "after the corpus");
  assert.deepEqual(failures, [], `${failures.length} of ${corpus.length} hostile cases were not rejected as expected`);
});

test("hostile bodies: 100000-deep tool parameters and 100000-wide arrays", { timeout: 120000 }, async () => {
  const depth = 100000;
  const deep =
    '{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":' +
    '{"a":['.repeat(depth / 2) + "1" + "]}".repeat(depth / 2) + "}}]}";
  for (const route of ["/chat_tokenize", "/v1/chat/completions"]) {
    await assertRejected(route, deep, `100000-deep tools[0].function.parameters on ${route}`, 400, PARSE + "recursion limit exceeded");
    await assertHealthy(BASE_URL, SERVER_PID, `after the 100000-deep body on ${route}`);
  }
  const wide = 100000;
  await assertRejected("/generate", `{"inputs":"x","parameters":{"max_new_tokens":1,"stop":[${"[0],".repeat(wide - 1)}[0]]}}`,
    "100000 two-level entries in stop", 422, SHAPE);
  await assertRejected("/tokenize", `{"inputs":[${"0,".repeat(wide - 1)}0]}`, "100000-element inputs array", 422, SHAPE);
  await assertRejected("/v1/chat/completions", `{"messages":[${"1,".repeat(wide - 1)}1],"max_tokens":1}`,
    "100000 malformed messages", 422, SHAPE);
  await assertHealthy(BASE_URL, SERVER_PID, "after the wide bodies");
});

// ---------------------------------------------------------------------------------------------
// Oversized bodies

test("a body over --payload-limit is always answered 413, never reset (20 fetches of 3 MB)", { timeout: 120000 }, async () => {
  const body = JSON.stringify({ inputs: "a".repeat(3000000) });
  for (let i = 0; i < 20; i++) {
    let response;
    try {
      response = await fetch(`${BASE_URL}/generate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(30000),
      });
    } catch (error) {
      assert.fail(`attempt ${i}: fetch failed instead of seeing the 413 (${error.cause?.code ?? ""} ${error.cause?.message ?? error.message})`);
    }
    assert.equal(response.status, 413, `attempt ${i}: status`);
    assert.equal(await response.text(), "Failed to buffer the request body: length limit exceeded", `attempt ${i}: body`);
  }
  await assertHealthy(BASE_URL, SERVER_PID, "after the oversized bodies");
});

test("an oversized body on a raw socket (content-length and chunked) gets the 413 and a clean close", { timeout: 120000 }, async () => {
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  for (const framing of ["content-length", "chunked"]) {
    for (let i = 0; i < 3; i++) {
      const what = `${framing} attempt ${i}`;
      const conn = await rawConnect(PORT);
      const pieces = 12; // 3 MiB of body
      const head =
        "POST /generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        (framing === "chunked" ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${pieces * chunk.length + 13}\r\n`) +
        "\r\n";
      conn.socket.write(head);
      if (framing === "content-length") conn.socket.write('{"inputs":"');
      const deadline = now() + 20000;
      for (let k = 0; k < pieces && !conn.closed && now() < deadline; k++) {
        const piece = framing === "chunked" ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) : chunk;
        if (!conn.socket.write(piece)) await Promise.race([once(conn.socket, "drain"), once(conn.socket, "close"), sleep(Math.max(0, deadline - now()))]);
      }
      if (!conn.closed) conn.socket.end(framing === "chunked" ? "0\r\n\r\n" : '"}');
      assert.ok(await waitFor(() => conn.closed, 20000), `${what}: the server closes the connection`);
      const responses = parseResponses(conn.buffer());
      assert.equal(responses.length, 1, `${what}: one response (${conn.text().slice(0, 200)})`);
      assert.equal(responses[0].status, 413, `${what}: status`);
      assert.equal(responses[0].body.toString(), "Failed to buffer the request body: length limit exceeded", `${what}: body`);
      assert.notEqual(conn.error?.code, "ECONNRESET", `${what}: closed gracefully, not reset`);
    }
  }
  await assertHealthy(BASE_URL, SERVER_PID, "after the raw oversized bodies");
});

// ---------------------------------------------------------------------------------------------
// 1. Mixed concurrent load

function mixedRequest(i) {
  const maxNew = 2 + ((i * 7) % 19); // 2..20
  const words = "tell me more about it ".repeat(1 + (i % 5));
  const generateBody = { inputs: `Prompt ${i}: ${words}`, parameters: { max_new_tokens: maxNew, details: true } };
  const chatBody = { messages: [{ role: "user", content: `Question ${i}: ${words}` }], max_tokens: maxNew, temperature: 0 };
  switch (i % 4) {
    case 0:
      return { kind: "generate", route: "/generate", body: generateBody };
    case 1:
      return { kind: "generate_stream", route: "/generate_stream", body: generateBody };
    case 2:
      return { kind: "chat", route: "/v1/chat/completions", body: chatBody };
    default:
      return { kind: "chat_stream", route: "/v1/chat/completions", body: { ...chatBody, stream: true } };
  }
}

test("256 concurrent mixed requests: none lost or garbled, each equal to the same request alone", { timeout: 420000 }, async () => {
  const unique = Array.from({ length: 128 }, (_, i) => mixedRequest(i));
  const alone = [];
  for (let i = 0; i < unique.length; i++) alone.push(await outcomeOf(BASE_URL, unique[i], `alone #${i} ${unique[i].kind}`));
  const results = await Promise.allSettled(
    Array.from({ length: 256 }, (_, j) => outcomeOf(BASE_URL, unique[j % 128], `concurrent #${j} ${unique[j % 128].kind}`)),
  );
  const failed = results.map((r, j) => [r, j]).filter(([r]) => r.status === "rejected");
  assert.equal(failed.length, 0, `lost or garbled: ${failed.slice(0, 5).map(([r, j]) => `#${j}: ${why(r.reason)}`).join("; ")}`);
  results.forEach((r, j) => assert.deepEqual(r.value, alone[j % 128], `concurrent #${j} (${unique[j % 128].kind}) equals the request alone`));
  await waitIdle(BASE_URL, "after the mixed load");
});

// ---------------------------------------------------------------------------------------------
// 2. Disconnect storm

// Starts a long stream, reads until its first event, then aborts. Returns the first payload.
async function streamThenAbort(base, i) {
  const controller = new AbortController();
  const chat = i % 2 === 1;
  const response = chat
    ? await post(base, "/v1/chat/completions", { messages: [{ role: "user", content: `Storm ${i}` }], max_tokens: 300, stream: true }, { signal: controller.signal })
    : await post(base, "/generate_stream", { inputs: `Storm ${i}`, parameters: { max_new_tokens: 300 } }, { signal: controller.signal });
  assert.equal(response.status, 200, `storm stream ${i}: status`);
  const decoder = new TextDecoder();
  let text = "";
  const firstData = () => text.split("\n\n").slice(0, -1).find((event) => !event.startsWith(":"));
  try {
    for await (const chunk of response.body) {
      text += decoder.decode(chunk, { stream: true });
      if (firstData() !== undefined) break;
    }
  } finally {
    controller.abort();
  }
  const first = firstData() ?? "";
  assert.ok(first.startsWith("data: "), `storm stream ${i}: first event ${JSON.stringify(first.slice(0, 200))}`);
  const event = JSON.parse(first.slice(6));
  assert.equal(event.error, undefined, `storm stream ${i}: ${first}`);
  return event;
}

test("disconnect storm: 3 rounds of 100 streams aborted after their first token leave nothing behind", { timeout: 240000 }, async () => {
  const rss = [];
  for (let round = 1; round <= 3; round++) {
    const before = await metrics(BASE_URL);
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => streamThenAbort(BASE_URL, round * 1000 + i)));
    const failed = results.filter((r) => r.status === "rejected");
    assert.equal(failed.length, 0, `round ${round}: ${failed.slice(0, 3).map((r) => why(r.reason)).join("; ")}`);
    const after = await waitIdle(BASE_URL, `round ${round}`);
    const dropped = (m) => m.get('tgi_request_failure{err="dropped"}') ?? 0;
    assert.equal(dropped(after) - dropped(before), 100, `round ${round}: every aborted stream was cancelled (counted as dropped)`);
    rss.push(rssBytes(SERVER_PID));
  }
  const growth = rss[2] - rss[0];
  console.log(`# disconnect storm: RSS after rounds 1-3: ${rss.map((r) => (r / MiB).toFixed(1)).join(", ")} MiB`);
  assert.ok(growth < 64 * MiB, `RSS after round 3 is within 64 MiB of round 1 (${(growth / MiB).toFixed(1)} MiB)`);
  await assertHealthy(BASE_URL, SERVER_PID, "after the storm");
});

// ---------------------------------------------------------------------------------------------
// 4. Slowloris and idle connections

test("slowloris: 64 connections sending a header a byte every 200 ms are closed after the header timeout", { timeout: 60000 }, async () => {
  const header = "POST /generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow: " + "a".repeat(500) + "\r\n\r\n";
  const conns = await Promise.all(Array.from({ length: 64 }, () => rawConnect(TIMEOUTS_PORT)));
  const startedAt = now();
  let sent = 0;
  const drip = () => {
    for (const c of conns) if (!c.closed && !c.socket.destroyed && sent < header.length) c.socket.write(header[sent]);
    sent++;
  };
  drip();
  const timer = setInterval(drip, 200);
  try {
    await sleep(500);
    // The server keeps serving while they drip.
    await assertHealthy(TIMEOUTS_BASE_URL, TIMEOUTS_PID, "during the slowloris");
    const allClosed = await waitFor(() => conns.every((c) => c.closed), HEADER_TIMEOUT_MS + TIMER_SLACK_MS);
    assert.ok(allClosed, `all closed within the header timeout + ${TIMER_SLACK_MS} ms (${conns.filter((c) => !c.closed).length} still open)`);
  } finally {
    clearInterval(timer);
    for (const c of conns) c.socket.destroy();
  }
  assert.ok(sent < header.length, "the header was still incomplete when the connections were closed");
  for (const [k, c] of conns.entries()) {
    const text = c.text();
    assert.ok(text === "" || text.startsWith("HTTP/1.1 408 "), `slowloris ${k}: a 408 or a bare close, got ${JSON.stringify(text.slice(0, 100))}`);
    assert.ok(c.closedAt - startedAt >= HEADER_TIMEOUT_MS - 500, `slowloris ${k}: not closed before the header timeout (${(c.closedAt - startedAt).toFixed(0)} ms)`);
  }
  await assertHealthy(TIMEOUTS_BASE_URL, TIMEOUTS_PID, "after the slowloris");
});

test("slow body: 16 connections dripping a body a byte every 200 ms are closed after the body timeout", { timeout: 60000 }, async () => {
  const body = JSON.stringify({ inputs: "x".repeat(400), parameters: { max_new_tokens: 1 } });
  const head = `POST /generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  const conns = await Promise.all(Array.from({ length: 16 }, () => rawConnect(TIMEOUTS_PORT)));
  for (const c of conns) c.socket.write(head);
  const startedAt = now();
  let sent = 0;
  const timer = setInterval(() => {
    for (const c of conns) if (!c.closed && !c.socket.destroyed && sent < body.length) c.socket.write(body[sent]);
    sent++;
  }, 200);
  try {
    await assertHealthy(TIMEOUTS_BASE_URL, TIMEOUTS_PID, "during the slow bodies");
    const allClosed = await waitFor(() => conns.every((c) => c.closed), BODY_TIMEOUT_MS + TIMER_SLACK_MS);
    assert.ok(allClosed, `all closed within the body timeout + ${TIMER_SLACK_MS} ms (${conns.filter((c) => !c.closed).length} still open)`);
  } finally {
    clearInterval(timer);
    for (const c of conns) c.socket.destroy();
  }
  assert.ok(sent < body.length, "the body was still incomplete when the connections were closed");
  for (const [k, c] of conns.entries()) {
    const text = c.text();
    assert.ok(text === "" || text.startsWith("HTTP/1.1 408 "), `slow body ${k}: a 408 or a bare close, got ${JSON.stringify(text.slice(0, 100))}`);
    assert.ok(c.closedAt - startedAt >= BODY_TIMEOUT_MS - 500, `slow body ${k}: not closed before the body timeout (${(c.closedAt - startedAt).toFixed(0)} ms)`);
  }
  await assertHealthy(TIMEOUTS_BASE_URL, TIMEOUTS_PID, "after the slow bodies");
});

test("idle: 200 connections that send nothing, and a finished keep-alive one, are closed after the idle timeout", { timeout: 60000 }, async () => {
  const conns = await Promise.all(Array.from({ length: 200 }, () => rawConnect(TIMEOUTS_PORT)));
  const startedAt = now();
  const keepAlive = await rawConnect(TIMEOUTS_PORT);
  keepAlive.socket.write(httpRequest("GET", "/health"));
  assert.ok(await waitFor(() => parseResponses(keepAlive.buffer())[0]?.complete, 10000), "the keep-alive request is answered");
  const answeredAt = now();
  assert.equal(parseResponses(keepAlive.buffer())[0].status, 200);
  await assertHealthy(TIMEOUTS_BASE_URL, TIMEOUTS_PID, "with 200 idle connections open");
  const allClosed = await waitFor(() => keepAlive.closed && conns.every((c) => c.closed), IDLE_TIMEOUT_MS + TIMER_SLACK_MS);
  for (const c of [...conns, keepAlive]) c.socket.destroy();
  assert.ok(allClosed, `all closed within the idle timeout + ${TIMER_SLACK_MS} ms (${conns.filter((c) => !c.closed).length} idle and ${keepAlive.closed ? 0 : 1} keep-alive still open)`);
  for (const [k, c] of conns.entries()) {
    const text = c.text();
    assert.ok(text === "" || text.startsWith("HTTP/1.1 408 "), `idle ${k}: closed without a response, got ${JSON.stringify(text.slice(0, 100))}`);
    assert.ok(c.closedAt - startedAt >= IDLE_TIMEOUT_MS - 500, `idle ${k}: not closed before the idle timeout (${(c.closedAt - startedAt).toFixed(0)} ms)`);
  }
  assert.equal(parseResponses(keepAlive.buffer()).length, 1, "nothing more arrives on the keep-alive connection");
  assert.ok(keepAlive.closedAt - answeredAt >= IDLE_TIMEOUT_MS - 500, "the keep-alive connection stayed open for the idle timeout");
  await assertHealthy(TIMEOUTS_BASE_URL, TIMEOUTS_PID, "after the idle connections");
});

// ---------------------------------------------------------------------------------------------
// 5. Pipelining

test("two pipelined requests in one write are both answered, in order", { timeout: 60000 }, async () => {
  const conn = await rawConnect(PORT);
  const a = { inputs: "First", parameters: { max_new_tokens: 3, details: true } };
  const b = { inputs: "Second request", parameters: { max_new_tokens: 5, details: true } };
  conn.socket.write(httpRequest("POST", "/generate", a) + httpRequest("POST", "/generate", b));
  assert.ok(await waitFor(() => parseResponses(conn.buffer()).filter((r) => r.complete).length === 2, 30000), "both answered");
  conn.socket.destroy();
  const [ra, rb] = parseResponses(conn.buffer());
  assert.equal(ra.status, 200);
  assert.equal(rb.status, 200);
  const alone = async (body) => generateOutcome(await (await post(BASE_URL, "/generate", body)).json());
  assert.deepEqual(generateOutcome(JSON.parse(ra.body)), await alone(a), "first response answers the first request");
  assert.deepEqual(generateOutcome(JSON.parse(rb.body)), await alone(b), "second response answers the second request");
});

test("pipelined flood: 50 MB pushed behind a pending /generate cannot grow the server's memory", { timeout: 90000 }, async () => {
  await waitIdle(BASE_URL, "before the flood");
  const before = rssBytes(SERVER_PID);
  const sampler = rssSampler(SERVER_PID, 100);
  let peak = before;
  const conn = await rawConnect(PORT);
  let written = 0;
  let healthDuringStall = null;
  try {
    conn.socket.write(httpRequest("POST", "/generate", { inputs: "Flood", parameters: { max_new_tokens: 500 } }));
    const junk = Buffer.alloc(MiB, 0x78);
    const deadline = now() + 10000;
    while (written < 50 * MiB && now() < deadline && !conn.closed) {
      written += junk.length;
      if (!conn.socket.write(junk)) {
        const drained = await Promise.race([
          once(conn.socket, "drain").then(() => true),
          once(conn.socket, "close").then(() => true),
          sleep(500).then(() => false),
        ]);
        if (!drained && healthDuringStall === null) {
          // The writer is stalled: the server must still serve everyone else.
          healthDuringStall = await get(BASE_URL, "/health");
        }
        if (!drained) await Promise.race([once(conn.socket, "drain"), once(conn.socket, "close"), sleep(Math.max(0, deadline - now()))]);
      }
    }
    assert.ok(await waitFor(() => conn.text().includes("\r\n\r\n"), 30000), "the pending /generate is answered");
    await sleep(300);
  } finally {
    peak = sampler.stop();
    conn.socket.destroy();
  }
  assert.ok(conn.text().startsWith("HTTP/1.1 200 "), `the pending /generate gets its 200 (${JSON.stringify(conn.text().slice(0, 100))})`);
  if (healthDuringStall !== null) assert.equal(healthDuringStall.status, 200, "/health while the flood is stalled");
  const growth = peak - before;
  console.log(`# flood: ${(written / MiB).toFixed(0)} MiB handed to the socket before it stalled or closed (10 s at most), server RSS +${(growth / MiB).toFixed(1)} MiB`);
  assert.ok(growth < 32 * MiB, `RSS grew ${(growth / MiB).toFixed(1)} MiB (< 32 MiB) while ${(written / MiB).toFixed(0)} MiB were pushed`);
  await assertHealthy(BASE_URL, SERVER_PID, "after the flood");
  await waitIdle(BASE_URL, "after the flood");
});

// ---------------------------------------------------------------------------------------------
// 6. A client that never reads its stream

// Pipelines `count` long detailed streams on one connection and reads nothing. Once the socket
// buffers are full, the stream being written cannot finish (and the next request is never read).
// Resolves when the server has stopped generating for the connection: generation idle and the
// success counter unchanged for a while. Returns the connection and how many requests finished.
async function stallConnection(base, port, count, what) {
  const before = await metrics(base);
  const conn = await rawConnect(port);
  conn.socket.pause(); // reads nothing: what the server sends piles up in the socket buffers
  const body = { inputs: "Write a very long story", parameters: { max_new_tokens: 480, details: true, top_n_tokens: 5 } };
  let requests = "";
  for (let i = 0; i < count; i++) requests += httpRequest("POST", "/generate_stream", body);
  conn.socket.write(requests);
  const deadline = now() + 120000;
  let stableSince = now();
  let lastSuccess = -1;
  for (;;) {
    const m = await metrics(base);
    const success = m.get("tgi_request_success") - before.get("tgi_request_success");
    const busy = GAUGES.some((name) => m.get(name) !== 0);
    if (busy || success !== lastSuccess) stableSince = now();
    lastSuccess = success;
    if (conn.closed || now() - stableSince > 2000) return { conn, finished: success, before };
    assert.ok(now() < deadline, `${what}: the server is still generating for the unread connection after 120 s`);
    await sleep(250);
  }
}

function countFinals(text) {
  return text.split('"details":{"finish_reason"').length - 1;
}

test("slow reader: a connection whose stream is never read is cancelled once its backlog is exceeded", { timeout: 240000 }, async () => {
  await waitIdle(BASE_URL, "before the slow reader");
  const count = 16;
  const rssBefore = rssBytes(SERVER_PID);
  const sampler = rssSampler(SERVER_PID, 200);
  let peak = rssBefore;
  let conn;
  let finished;
  try {
    ({ conn, finished } = await stallConnection(BASE_URL, PORT, count, "slow reader"));
    // Generation has stopped. A server that holds the stalled stream forever would now still
    // have the connection open with unfinished responses; one that enforces the backlog closed it.
    conn.socket.resume();
    const closed = await waitFor(() => conn.closed, 120000, 100);
    assert.ok(closed, "the server closed the connection of the client that did not read");
  } finally {
    peak = sampler.stop();
    conn?.socket.destroy();
  }
  const text = conn.text();
  const finals = countFinals(text);
  console.log(`# slow reader: ${finished} streams generated, ${finals} arrived whole, ${(conn.bytes / 1024).toFixed(0)} KiB received, RSS +${((peak - rssBefore) / MiB).toFixed(1)} MiB`);
  assert.ok(finished < count, `the unread connection stalled the server's writes (${finished} of ${count} streams were generated)`);
  assert.ok(finals < count, `the stalled stream was cut: ${finals} of ${count} streams arrived complete`);
  const responses = parseResponses(conn.buffer());
  assert.ok(responses.length >= 1 && responses.every((r) => r.status === 200), "what arrived are the stream responses");
  assert.ok(!responses.at(-1).complete, "the last stream was cut off, not finished");
  const growth = peak - rssBefore;
  assert.ok(growth < 32 * MiB, `RSS grew ${(growth / MiB).toFixed(1)} MiB (< 32 MiB)`);
  await waitIdle(BASE_URL, "after the slow reader");
  await assertHealthy(BASE_URL, SERVER_PID, "after the slow reader");
});

// ---------------------------------------------------------------------------------------------
// 3. KV exhaustion (the server with a 64-token KV cache)

test("KV exhaustion: 32 concurrent requests on a 64-token cache all succeed with the sequential outputs", { timeout: 240000 }, async () => {
  const requests = Array.from({ length: 32 }, (_, i) => ({
    inputs: `Item ${i}:` + " count".repeat(1 + (i % 16)),
    parameters: { max_new_tokens: 8 + ((i * 5) % 33), details: true },
  }));
  const alone = [];
  for (const [i, body] of requests.entries()) {
    const response = await post(KV_BASE_URL, "/generate", body);
    assert.equal(response.status, 200, `alone ${i}: status (${await response.clone().text()})`);
    alone.push(generateOutcome(await response.json()));
  }
  const before = await metrics(KV_BASE_URL);
  const results = await Promise.allSettled(
    requests.map((body, i) =>
      outcomeOf(KV_BASE_URL, { kind: i % 2 ? "generate_stream" : "generate", route: i % 2 ? "/generate_stream" : "/generate", body }, `concurrent ${i}`),
    ),
  );
  const failed = results.filter((r) => r.status === "rejected");
  assert.equal(failed.length, 0, failed.slice(0, 3).map((r) => why(r.reason)).join("; "));
  results.forEach((r, i) => assert.deepEqual(r.value, alone[i], `request ${i} under KV exhaustion equals the sequential output`));
  const after = await waitIdle(KV_BASE_URL, "after the KV exhaustion");
  const usage = after.get("tgi_kv_cache_blocks_total");
  assert.ok(usage > 0 && usage <= 4, `the KV cache is the tiny one (${usage} blocks)`);
  console.log(`# KV exhaustion: ${after.get("tgi_preemptions") - before.get("tgi_preemptions")} preemptions`);
});

test("--max-connections: connections above the limit are closed at once, and the slots come back", { timeout: 60000 }, async () => {
  await waitIdle(KV_BASE_URL, "before the connection limit");
  await sleep(300); // the helpers' own connections are gone
  const held = [];
  for (let k = 0; k < KV_MAX_CONNECTIONS; k++) held.push(await rawConnect(KV_PORT));
  await sleep(500);
  assert.equal(held.filter((c) => c.closed).length, 0, `the first ${KV_MAX_CONNECTIONS} connections stay open`);
  const extra = [];
  for (let k = 0; k < 10; k++) {
    const c = await rawConnect(KV_PORT).catch(() => null);
    if (c) {
      c.socket.write(httpRequest("GET", "/health"));
      extra.push(c);
    }
  }
  assert.ok(await waitFor(() => extra.every((c) => c.closed), 5000), `connections over the limit are closed (${extra.filter((c) => !c.closed).length} of ${extra.length} open)`);
  for (const [k, c] of extra.entries()) assert.ok(!c.text().startsWith("HTTP/1.1 200"), `extra connection ${k} was not served`);
  assert.equal(held.filter((c) => c.closed).length, 0, "the connections within the limit are untouched");
  // One of the held connections is still served.
  held[0].socket.write(httpRequest("GET", "/health"));
  assert.equal((await nextResponse(held[0], 0, 10000))?.status, 200, "a connection within the limit is served");
  for (const c of held) c.socket.destroy();
  let served = false;
  for (const deadline = now() + 10000; !served && now() < deadline; ) {
    served = await get(KV_BASE_URL, "/health", 5000).then((r) => r.status === 200, () => false);
    if (!served) await sleep(100);
  }
  assert.ok(served, "once the connections close, new ones are served again");
});

// ---------------------------------------------------------------------------------------------
// 8. SIGTERM drain (the third server, which runs one sequence at a time; this test stops it)

// Reads one more complete response from a raw keep-alive connection (or sees it close), bounded.
async function nextResponse(conn, previous, timeoutMs) {
  await waitFor(() => conn.closed || parseResponses(conn.buffer()).filter((r) => r.complete).length > previous, timeoutMs);
  return parseResponses(conn.buffer()).filter((r) => r.complete)[previous] ?? null;
}

// A response to a request sent after SIGTERM: a 503 that closes the connection, never a 200.
async function assertRefusedAfterSigterm(conn, previous, what) {
  const response = await nextResponse(conn, previous, 15000);
  if (!response) {
    assert.ok(conn.closed, `${what}: neither answered nor closed within 15 s`);
    assert.equal(parseResponses(conn.buffer()).length, previous, `${what}: closed without answering`);
    return "closed";
  }
  const body = response.body.toString();
  assert.equal(response.status, 503, `${what}: a request after SIGTERM is refused (${body.slice(0, 200)})`);
  assert.equal(response.headers.connection?.toLowerCase(), "close", `${what}: the 503 says connection: close`);
  const json = JSON.parse(body);
  assert.equal(typeof json.error, "string", `${what}: 503 body has error`);
  assert.equal(typeof json.error_type, "string", `${what}: 503 body has error_type`);
  assert.ok(await waitFor(() => conn.closed, 10000), `${what}: closed after the 503`);
  assert.equal(parseResponses(conn.buffer()).length, previous + 1, `${what}: nothing after the 503`);
  return "503";
}

test("SIGTERM drain: in-flight streams finish, open keep-alive connections get 503 or a close, exit 0", { timeout: 240000 }, async () => {
  assert.ok(alive(DRAIN_PID), "the drain server runs");
  // Four keep-alive connections, each having completed a request.
  const keepAlive = [];
  for (let k = 0; k < 4; k++) {
    const conn = await rawConnect(DRAIN_PORT);
    conn.socket.write(httpRequest("GET", "/info"));
    const response = await nextResponse(conn, 0, 10000);
    assert.equal(response?.status, 200, `keep-alive ${k}: first request`);
    assert.ok(!conn.closed, `keep-alive ${k}: stays open`);
    keepAlive.push(conn);
  }
  // What the 8 streams produce alone.
  const bodies = Array.from({ length: 8 }, (_, i) => ({ inputs: `Drain ${i}: go on`, parameters: { max_new_tokens: 100, details: true } }));
  const expected = [];
  for (const body of bodies) expected.push(generateOutcome(await (await post(DRAIN_BASE_URL, "/generate", body)).json()));

  // Eight streams. The server runs one sequence at a time, so most of them are still queued or
  // running when SIGTERM arrives. Stream 0 is on a raw keep-alive connection, so that a second
  // request can follow it on the same connection after SIGTERM.
  // /generate_stream answers its headers as soon as it takes the request: once all eight have
  // them, the server holds all eight.
  const raw = await rawConnect(DRAIN_PORT);
  raw.socket.write(httpRequest("POST", "/generate_stream", bodies[0]));
  const responses = await Promise.all(bodies.slice(1).map((body) => post(DRAIN_BASE_URL, "/generate_stream", body)));
  responses.forEach((response, i) => assert.equal(response.status, 200, `stream ${i + 1}: status`));
  const streams = responses.map((response) => response.text());
  assert.ok(await waitFor(() => raw.text().includes("\r\n\r\n"), 30000), "stream 0: headers");
  assert.ok(raw.text().startsWith("HTTP/1.1 200 "), "stream 0: status");

  // A keep-alive connection that has sent half of its next request when SIGTERM comes.
  const half = await rawConnect(DRAIN_PORT);
  half.socket.write(httpRequest("GET", "/info"));
  assert.equal((await nextResponse(half, 0, 10000))?.status, 200, "half-sent connection: first request");
  const late = httpRequest("POST", "/generate", { inputs: "Late", parameters: { max_new_tokens: 2 } });
  half.socket.write(late.slice(0, 20));
  await sleep(100);

  process.kill(DRAIN_PID, "SIGTERM");
  // Wait until the server has taken the signal: it logs it, or stops accepting connections.
  const logged = () => fs.readFileSync(DRAIN_LOG, "utf8").includes("Received SIGTERM");
  const accepting = () =>
    new Promise((resolve) => {
      const probe = net.connect({ port: DRAIN_PORT, host: "127.0.0.1" });
      probe.once("connect", () => {
        probe.destroy();
        resolve(true);
      });
      probe.once("error", () => resolve(false));
    });
  let taken = false;
  for (const deadline = now() + 5000; !taken && now() < deadline; ) {
    taken = logged() || !(await accepting());
    if (!taken) await sleep(20);
  }
  assert.ok(taken, "the server took SIGTERM within 5 s (logged it or stopped accepting)");
  await sleep(50);

  // A new request on each open keep-alive connection, and one behind stream 0 on its connection.
  raw.socket.write(httpRequest("POST", "/generate", { inputs: "Late", parameters: { max_new_tokens: 2 } }));
  const outcomes = [];
  for (const [k, conn] of keepAlive.entries()) {
    if (!conn.closed) conn.socket.write(httpRequest("POST", "/generate", { inputs: "Late", parameters: { max_new_tokens: 2 } }));
    outcomes.push(await assertRefusedAfterSigterm(conn, 1, `keep-alive ${k}`));
  }
  console.log(`# late requests on idle keep-alive connections: ${outcomes.join(", ")}`);
  if (!half.closed) half.socket.write(late.slice(20));
  console.log(`# request half-sent at SIGTERM: ${await assertRefusedAfterSigterm(half, 1, "half-sent request")}`);

  // Every stream completes with its final event and the output it has alone.
  const texts = await Promise.all(streams);
  texts.forEach((text, i) => assert.deepEqual(generateStreamOutcome(text, `drain stream ${i + 1}`), expected[i + 1], `drain stream ${i + 1} output`));
  const first = await nextResponse(raw, 0, 60000);
  assert.ok(first, "stream 0 completes");
  assert.equal(first.status, 200);
  assert.deepEqual(generateStreamOutcome(first.body.toString("utf8"), "drain stream 0"), expected[0], "drain stream 0 output");
  console.log(`# late request behind a stream: ${await assertRefusedAfterSigterm(raw, 1, "pipelined behind stream 0")}`);

  // Then the process exits (reaped, with its status checked, by reliability.test.sh).
  assert.ok(await waitFor(() => !alive(DRAIN_PID), 60000, 100), "the server exits after draining");
});
