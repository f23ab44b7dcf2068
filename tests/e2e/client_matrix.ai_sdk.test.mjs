// Client matrix: the Vercel AI SDK (`ai` 6.x) with `@ai-sdk/openai-compatible` against `tgi serve`:
// generateText, streamText, and generateText with tools.
import assert from "node:assert/strict";
import { generateText, streamText, tool, jsonSchema } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { z } from "zod";
import { BASE_URL, t, TOOL_NAMES, TIME_SCHEMA } from "./client_matrix.common.mjs";

const tgi = createOpenAICompatible({ name: "tgi", baseURL: `${BASE_URL}/v1`, apiKey: "unused", includeUsage: true });
const model = tgi("tgi");
const COMMON = { model, prompt: "Say hello", maxOutputTokens: 6, temperature: 0, maxRetries: 0 };

function assertUsage(usage, max) {
  assert.ok(usage.inputTokens > 0, `inputTokens ${usage.inputTokens}`);
  assert.ok(usage.outputTokens >= 1 && usage.outputTokens <= max, `outputTokens ${usage.outputTokens}`);
  assert.equal(usage.totalTokens, usage.inputTokens + usage.outputTokens);
}

t("ai-sdk: generateText", async () => {
  const result = await generateText(COMMON);
  assert.equal(typeof result.text, "string");
  assert.ok(["stop", "length"].includes(result.finishReason), `finishReason ${result.finishReason}`);
  assert.deepEqual(result.toolCalls, []);
  assertUsage(result.usage, 6);
});

t("ai-sdk: streamText textStream concatenates to the final text", async () => {
  const whole = await generateText(COMMON);
  const errors = [];
  const result = streamText({ ...COMMON, onError: ({ error }) => errors.push(error) });
  let text = "";
  for await (const delta of result.textStream) text += delta;
  assert.deepEqual(errors, [], "no stream errors");
  assert.equal(text, await result.text);
  assert.equal(text, whole.text, "the stream gives the generateText answer");
  assert.ok(["stop", "length"].includes(await result.finishReason));
  assertUsage(await result.usage, 6);
});

t("ai-sdk: generateText with tools (zod and jsonSchema)", async () => {
  const result = await generateText({
    ...COMMON,
    prompt: "What is the weather in Paris and the time in Tokyo?",
    maxOutputTokens: 16,
    tools: {
      get_weather: tool({ description: "Current weather in a city", inputSchema: z.object({ city: z.string() }) }),
      get_time: tool({ description: "Current time in a timezone", inputSchema: jsonSchema(TIME_SCHEMA) }),
    },
  });
  assert.ok(Array.isArray(result.toolCalls), "toolCalls is an array");
  for (const call of result.toolCalls) {
    assert.ok(TOOL_NAMES.includes(call.toolName), `offered tool: ${call.toolName}`);
    assert.equal(typeof call.toolCallId, "string");
    assert.ok(call.input !== null && typeof call.input === "object", "input is an object");
  }
  assert.equal(result.finishReason === "tool-calls", result.toolCalls.length > 0, `finishReason ${result.finishReason}`);
  if (result.toolCalls.length === 0) assert.equal(typeof result.text, "string");
});
