// 64 simultaneous streams of different lengths must each produce exactly what the same request
// produces alone (greedy decoding), and a client that disconnects must be cancelled.
import { test } from "node:test";
import assert from "node:assert/strict";
import { post as postTo, sseEvents } from "./sse.mjs";

const BASE_URL = process.env.BASE_URL;

async function post(path, body, signal) {
  return postTo(BASE_URL, path, body, signal);
}

function requestFor(i) {
  return {
    inputs: `Request ${i}: ` + "tell me more ".repeat(i % 7),
    parameters: { max_new_tokens: 3 + (i % 17), details: true },
  };
}

test("64 concurrent streams give the same outputs as the requests alone", async () => {
  const expected = [];
  for (let i = 0; i < 64; i++) {
    const response = await post("/generate", requestFor(i));
    assert.equal(response.status, 200);
    expected.push(await response.json());
  }
  const streams = await Promise.all(
    Array.from({ length: 64 }, async (_, i) => {
      const response = await post("/generate_stream", requestFor(i));
      assert.equal(response.status, 200);
      const ids = [];
      let final = null;
      for await (const event of sseEvents(response)) {
        assert.equal(event.error, undefined, `stream ${i}: ${event.error}`);
        ids.push(event.token.id);
        if (event.generated_text !== null) final = event;
      }
      return { ids, final };
    }),
  );
  for (let i = 0; i < 64; i++) {
    const alone = expected[i];
    const { ids, final } = streams[i];
    assert.ok(final, `stream ${i} ended with a final event`);
    assert.deepEqual(ids, alone.details.tokens.map((t) => t.id), `stream ${i} token ids`);
    assert.equal(final.generated_text, alone.generated_text, `stream ${i} text`);
    assert.equal(final.details.generated_tokens, alone.details.generated_tokens);
  }
});

async function metric(name) {
  const text = await (await fetch(`${BASE_URL}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return line ? Number(line.split(" ")[1]) : NaN;
}

test("a client that disconnects mid-stream is cancelled and its KV blocks freed", async () => {
  const dropped = await metric('tgi_request_failure{err="dropped"}');
  const controller = new AbortController();
  const response = await post("/generate_stream", { inputs: "A long story", parameters: { max_new_tokens: 400 } }, controller.signal);
  let seen = 0;
  try {
    for await (const event of sseEvents(response)) {
      assert.equal(event.error, undefined);
      if (++seen === 2) controller.abort();
    }
  } catch (error) {
    assert.equal(error.name, "AbortError");
  }
  let now = dropped;
  for (let i = 0; i < 300 && now === dropped; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    now = await metric('tgi_request_failure{err="dropped"}');
  }
  assert.equal(now, dropped + 1, "the dropped request was counted");
  let used = NaN;
  for (let i = 0; i < 300 && used !== 0; i++) {
    used = await metric("tgi_kv_cache_blocks_used");
    if (used !== 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(used, 0, "no KV blocks stay referenced after the cancellation");
  // It finished early: far fewer than 400 tokens were generated for it.
  const generated = await metric("tgi_request_generated_tokens_count");
  assert.ok(Number.isFinite(generated));
});
