// Client matrix: plain fetch against routes without an SDK: /tokenize + /detokenize (llama.cpp's
// shapes), /apply-template, /docs (self-contained, no CDN) and /api-doc/openapi.json.
import assert from "node:assert/strict";
import { BASE_URL, t, postJson } from "./client_matrix.common.mjs";

t("http: /detokenize round-trips /tokenize", async () => {
  const text = "Hello world, this is a round trip.";
  const tokenized = await postJson("/tokenize", { inputs: text });
  assert.equal(tokenized.status, 200, tokenized.text);
  const ids = tokenized.json.map((token) => token.id);
  assert.ok(ids.length >= 2 && ids.every(Number.isInteger), `ids ${JSON.stringify(ids)}`);
  const detokenized = await postJson("/detokenize", { tokens: ids });
  assert.equal(detokenized.status, 200, detokenized.text);
  assert.equal(typeof detokenized.json?.content, "string", detokenized.text);
  assert.equal(detokenized.json.content, text);
  const prefix = await postJson("/detokenize", { tokens: ids.slice(0, 1) });
  assert.equal(prefix.status, 200, prefix.text);
  assert.equal(prefix.json.content, tokenized.json[0].text, "one token detokenizes to its text");
});

t("http: /apply-template renders the chat template", async () => {
  const messages = [
    { role: "system", content: "You are terse." },
    { role: "user", content: "Hello" },
  ];
  const applied = await postJson("/apply-template", { messages });
  assert.equal(applied.status, 200, applied.text);
  assert.equal(typeof applied.json?.prompt, "string", applied.text);
  // The same rendering the server uses for chat (shown by /chat_tokenize).
  const tokenized = await postJson("/chat_tokenize", { model: "tgi", messages });
  assert.equal(tokenized.status, 200, tokenized.text);
  assert.equal(applied.json.prompt, tokenized.json.templated_text);
  assert.ok(applied.json.prompt.includes("You are terse.") && applied.json.prompt.includes("Hello"));
});

t("http: /docs is self-contained HTML", async () => {
  const response = await fetch(`${BASE_URL}/docs`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  const html = await response.text();
  assert.match(html, /<html/i);
  const tags = html.match(/<(script|link)\b[^>]*>/gi) ?? [];
  assert.ok(tags.some((tag) => /^<script/i.test(tag)), "the page has a script");
  for (const tag of tags) assert.doesNotMatch(tag, /(https?:)?\/\/[a-z0-9]/i, `no external URL in ${tag}`);
  // Every local asset the page loads is served.
  for (const tag of tags) {
    const url = tag.match(/\b(?:src|href)\s*=\s*["']([^"']+)["']/i)?.[1];
    if (!url || url.startsWith("data:")) continue;
    const asset = await fetch(new URL(url, `${BASE_URL}/docs`));
    assert.equal(asset.status, 200, `asset ${url}`);
    await asset.arrayBuffer();
  }
});

t("http: /api-doc/openapi.json", async () => {
  const response = await fetch(`${BASE_URL}/api-doc/openapi.json`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /json/);
  const spec = await response.json();
  assert.equal(typeof spec.openapi, "string");
  assert.match(spec.openapi, /^3\./);
  assert.equal(typeof spec.paths, "object");
  assert.ok("/v1/chat/completions" in spec.paths, `paths: ${Object.keys(spec.paths).join(", ")}`);
  assert.ok(spec.paths["/v1/chat/completions"].post, "a POST operation");
});
