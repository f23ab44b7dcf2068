// Client matrix, against a server started with --api-key (API_KEY): the OpenAI SDK (Bearer) and
// the Anthropic SDK, both with the key in `Authorization: Bearer` (what @anthropic-ai/sdk 1.x
// sends for `apiKey`) and in `x-api-key` (what Anthropic's API documents, and older SDKs send).
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { BASE_URL, t, postJson } from "./client_matrix.common.mjs";

const API_KEY = process.env.API_KEY;
if (!API_KEY) throw new Error("API_KEY must be the server's --api-key");
const WRONG_KEY = `${API_KEY}-wrong`;
const REQUEST = { model: "tgi", max_tokens: 4, messages: [{ role: "user", content: "Say hello" }] };

const openaiWith = (apiKey) => new OpenAI({ baseURL: `${BASE_URL}/v1`, apiKey, maxRetries: 0 });
const anthropicBearer = (apiKey) => new Anthropic({ baseURL: BASE_URL, apiKey, maxRetries: 0 });
// The key only in x-api-key: no apiKey, and no Authorization header at all.
const anthropicXApiKey = (apiKey) =>
  new Anthropic({ baseURL: BASE_URL, apiKey: null, authToken: null, defaultHeaders: { "x-api-key": apiKey }, maxRetries: 0 });

t("auth: openai SDK with the key, and a wrong key is a 401", async () => {
  const completion = await openaiWith(API_KEY).chat.completions.create(REQUEST);
  assert.equal(completion.object, "chat.completion");
  await assert.rejects(openaiWith(WRONG_KEY).chat.completions.create(REQUEST), (error) => {
    assert.ok(error instanceof OpenAI.AuthenticationError, `${error.constructor.name}: ${error.message}`);
    assert.equal(error.status, 401);
    return true;
  });
});

for (const [how, client] of [
  ["apiKey (Authorization: Bearer)", anthropicBearer],
  ["x-api-key", anthropicXApiKey],
]) {
  t(`auth: anthropic SDK with the key in ${how}`, async () => {
    const message = await client(API_KEY).messages.create(REQUEST);
    assert.equal(message.type, "message");
    assert.ok(message.usage.input_tokens > 0);
  });

  t(`auth: anthropic SDK with a wrong key in ${how} is an AuthenticationError`, async () => {
    await assert.rejects(client(WRONG_KEY).messages.create(REQUEST), (error) => {
      assert.ok(error instanceof Anthropic.AuthenticationError, `${error.constructor.name}: ${error.message}`);
      assert.equal(error.status, 401);
      return true;
    });
  });
}

t("auth: /v1/messages without any key is a 401", async () => {
  const { status, text } = await postJson("/v1/messages", REQUEST, { "anthropic-version": "2023-06-01" });
  assert.equal(status, 401, text);
});
