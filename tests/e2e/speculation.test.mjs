// See speculation.test.sh. MODE=record writes what a server without speculation answers, one
// request at a time; MODE=verify asks a speculating server the same things concurrently.
import { test } from "node:test";
import assert from "node:assert/strict";
import { post as postTo, sseEvents } from "./sse.mjs";
import { readFileSync, writeFileSync } from "node:fs";

const { BASE_URL, MODE, EXPECTED } = process.env;

async function post(path, body) {
  return postTo(BASE_URL, path, body);
}

// Prompts that repeat themselves (so continuations that copy are proposed), greedy and sampled.
function requestFor(i) {
  const phrase = ["the cat sat on the mat", "one two three four", "def f(x): return x + 1", "abc abc abc"][i % 4];
  const parameters = { max_new_tokens: 24 + (i % 9), details: true, top_n_tokens: i % 3 === 0 ? 2 : undefined };
  if (i % 2 === 1) Object.assign(parameters, { do_sample: true, temperature: 0.8, top_k: 20, seed: 100 + i });
  if (i % 5 === 4) parameters.stop = ["mat"];
  return { inputs: `${phrase}. ${phrase}. ${phrase}.`, parameters };
}
const N = 24;

// What must not change with speculation (timings aside).
function essence(response) {
  const d = response.details;
  return {
    text: response.generated_text,
    finish_reason: d.finish_reason,
    generated_tokens: d.generated_tokens,
    seed: d.seed,
    tokens: d.tokens.map((t) => [t.id, t.text, t.logprob.toFixed(5), t.special]),
    top_tokens: (d.top_tokens ?? []).map((alts) => alts.map((t) => [t.id, t.logprob.toFixed(5)])),
  };
}

if (MODE === "record") {
  test("record the outputs without speculation", async () => {
    const expected = [];
    for (let i = 0; i < N; i++) {
      const response = await post("/generate", requestFor(i));
      assert.equal(response.status, 200);
      expected.push(essence(await response.json()));
    }
    writeFileSync(EXPECTED, JSON.stringify(expected));
  });
} else {
  const expected = JSON.parse(readFileSync(EXPECTED, "utf8"));

  test("concurrent /generate with speculation gives the same tokens, text and details", async () => {
    const answers = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const response = await post("/generate", requestFor(i));
        assert.equal(response.status, 200);
        return essence(await response.json());
      }),
    );
    for (let i = 0; i < N; i++) assert.deepEqual(answers[i], expected[i], `request ${i}`);
  });

  test("concurrent streams with speculation: one event per token, in order, same tokens", async () => {
    const streams = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const response = await post("/generate_stream", requestFor(i));
        assert.equal(response.status, 200);
        const events = [];
        for await (const event of sseEvents(response)) {
          assert.equal(event.error, undefined, `stream ${i}: ${event.error}`);
          events.push(event);
        }
        return events;
      }),
    );
    for (let i = 0; i < N; i++) {
      const events = streams[i];
      assert.deepEqual(
        events.map((e) => e.index),
        Array.from({ length: events.length }, (_, k) => k + 1),
        `stream ${i} indices`,
      );
      assert.deepEqual(
        events.map((e) => e.token.id),
        expected[i].tokens.map((t) => t[0]),
        `stream ${i} tokens`,
      );
      assert.equal(events.at(-1).generated_text, expected[i].text, `stream ${i} text`);
    }
  });

  test("/metrics reports the accepted proposals", async () => {
    const text = await (await fetch(`${BASE_URL}/metrics`)).text();
    const value = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);
    assert.ok(value("tgi_speculative_proposed_tokens") > 0, "proposed");
    assert.ok(value("tgi_speculative_accepted_tokens") > 0, "accepted");
    assert.ok(value("tgi_speculative_accepted_tokens") <= value("tgi_speculative_proposed_tokens"));
    assert.ok(value("tgi_speculative_tokens_per_step") > 1, "tokens per step");
    assert.ok(value("tgi_request_skipped_tokens_sum") > 0, "skipped tokens summary");
    assert.equal(value("tgi_request_skipped_tokens_count"), 2 * N);
  });
}
