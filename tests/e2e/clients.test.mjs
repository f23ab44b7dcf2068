// Real clients against `tgi serve`: the official `openai` SDK and `@huggingface/inference`.
// BASE_URL points at a running server (started by clients.test.sh).
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { InferenceClient } from "@huggingface/inference";

const BASE_URL = process.env.BASE_URL;
const openai = new OpenAI({ baseURL: `${BASE_URL}/v1`, apiKey: "unused" });
// @huggingface/inference 4.x sends an endpoint's textGeneration to /v1/completions (max_new_tokens
// as max_tokens) and streams its raw completion chunks; chatCompletion goes to /v1/chat/completions.
const hf = new InferenceClient().endpoint(BASE_URL);

test("openai: models list", async () => {
  const models = await openai.models.list();
  assert.equal(models.data.length, 1);
  assert.equal(models.data[0].object, "model");
});

test("openai: chat completion", async () => {
  const completion = await openai.chat.completions.create({
    model: "tgi",
    messages: [{ role: "user", content: "Say hello" }],
    max_tokens: 5,
    temperature: 0,
  });
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.choices.length, 1);
  assert.equal(completion.choices[0].message.role, "assistant");
  assert.equal(typeof completion.choices[0].message.content, "string");
  assert.ok(["length", "stop"].includes(completion.choices[0].finish_reason));
  assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
  assert.ok(completion.usage.completion_tokens <= 5);
});

test("openai: streaming chat with usage matches the non-streaming text", async () => {
  const request = { model: "tgi", messages: [{ role: "user", content: "Count" }], max_tokens: 6, temperature: 0 };
  const whole = await openai.chat.completions.create(request);
  const stream = await openai.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? "";
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.ok(usage, "usage chunk received");
  assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.equal(text, whole.choices[0].message.content);
});

test("openai: completions with several prompts", async () => {
  const completion = await openai.completions.create({
    model: "tgi",
    prompt: ["Once upon", "The capital of"],
    max_tokens: 4,
    temperature: 0,
  });
  assert.equal(completion.object, "text_completion");
  assert.deepEqual(completion.choices.map((c) => c.index).sort(), [0, 1]);
  assert.ok(completion.usage.completion_tokens <= 8);
});

test("openai: API errors surface as APIError with TGI's status", async () => {
  await assert.rejects(
    openai.chat.completions.create({ model: "tgi", messages: [{ role: "user", content: "x" }], max_tokens: 100000 }),
    (error) => error.status === 422,
  );
});

test("hf: textGeneration", async () => {
  const out = await hf.textGeneration({ model: "tgi", inputs: "Hello", parameters: { max_new_tokens: 4, temperature: 0 } });
  assert.equal(typeof out.generated_text, "string");
  const direct = await openai.completions.create({ model: "tgi", prompt: "Hello", max_tokens: 4, temperature: 0 });
  assert.equal(out.generated_text, direct.choices[0].text, "the /v1/completions continuation");
});

test("compat route returns the full text by default", async () => {
  const response = await fetch(`${BASE_URL}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: "Hello", parameters: { max_new_tokens: 4, details: true } }),
  });
  assert.equal(response.status, 200);
  const [out] = await response.json();
  assert.equal(typeof out.generated_text, "string");
  assert.ok(out.generated_text.startsWith("Hello"), "compat route returns the full text by default");
});

test("hf: textGenerationStream matches textGeneration", async () => {
  const parameters = { max_new_tokens: 5, temperature: 0 };
  const whole = await hf.textGeneration({ model: "tgi", inputs: "Hi there", parameters });
  let text = "";
  let finish = null;
  let count = 0;
  for await (const chunk of hf.textGenerationStream({ model: "tgi", inputs: "Hi there", parameters })) {
    count += 1;
    for (const choice of chunk.choices) {
      text += choice.text;
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.ok(count >= 1 && count <= 6, `${count} chunks: at most one a token, and a closing one`);
  assert.ok(["length", "stop"].includes(finish), `finish_reason ${finish}`);
  assert.equal(text, whole.generated_text);
});

test("hf: chatCompletion and its stream", async () => {
  const args = { model: "tgi", messages: [{ role: "user", content: "Hello" }], max_tokens: 5, temperature: 0 };
  const whole = await hf.chatCompletion(args);
  assert.equal(whole.choices[0].message.role, "assistant");
  let text = "";
  for await (const chunk of hf.chatCompletionStream(args)) {
    for (const choice of chunk.choices) text += choice.delta.content ?? "";
  }
  assert.equal(text, whole.choices[0].message.content);
});
