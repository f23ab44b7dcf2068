// Client matrix: `@huggingface/inference` 4.x against `tgi serve` as an endpoint URL. In 4.x an
// endpoint's textGeneration is sent to /v1/completions and chatCompletion to /v1/chat/completions.
import assert from "node:assert/strict";
import { InferenceClient } from "@huggingface/inference";
import { BASE_URL, t, postJson } from "./client_matrix.common.mjs";

const hf = new InferenceClient().endpoint(BASE_URL);
const CHAT = { model: "tgi", messages: [{ role: "user", content: "Say hello" }], max_tokens: 6, temperature: 0 };

t("hf: chatCompletion", async () => {
  const out = await hf.chatCompletion(CHAT);
  assert.equal(out.object, "chat.completion");
  assert.equal(out.choices.length, 1);
  assert.equal(out.choices[0].message.role, "assistant");
  assert.equal(typeof out.choices[0].message.content, "string");
  assert.ok(["length", "stop"].includes(out.choices[0].finish_reason));
  assert.ok(out.usage.completion_tokens >= 1 && out.usage.completion_tokens <= 6);
  assert.equal(out.usage.total_tokens, out.usage.prompt_tokens + out.usage.completion_tokens);
});

t("hf: chatCompletionStream concatenates to the chatCompletion text", async () => {
  const whole = await hf.chatCompletion(CHAT);
  let text = "";
  let finish = null;
  let chunks = 0;
  for await (const chunk of hf.chatCompletionStream(CHAT)) {
    chunks += 1;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? "";
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.ok(chunks >= 2, "several chunks");
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
});

t("hf: textGeneration is the /v1/completions continuation", async () => {
  const out = await hf.textGeneration({ model: "tgi", inputs: "Once upon a time", parameters: { max_new_tokens: 5, temperature: 0 } });
  assert.equal(typeof out.generated_text, "string");
  const direct = await postJson("/v1/completions", { model: "tgi", prompt: "Once upon a time", max_tokens: 5, temperature: 0 });
  assert.equal(direct.status, 200, direct.text);
  assert.equal(out.generated_text, direct.json.choices[0].text, "max_new_tokens maps to max_tokens");
});
