// Client matrix: the official `@anthropic-ai/sdk` against `tgi serve`'s Messages API: create,
// stream, tools with a tool_use/tool_result history, count_tokens, and Anthropic's error shape.
// (The --api-key checks are in client_matrix.auth.test.mjs, against a second server.)
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { BASE_URL, t, TOOL_NAMES, WEATHER_SCHEMA, TIME_SCHEMA, postJson } from "./client_matrix.common.mjs";

const anthropic = new Anthropic({ baseURL: BASE_URL, apiKey: "unused", maxRetries: 0 });
const STOP_REASONS = ["end_turn", "max_tokens", "stop_sequence", "tool_use"];
const USER = [{ role: "user", content: "Say hello" }];
const TOOLS = [
  { name: "get_weather", description: "Current weather in a city", input_schema: WEATHER_SCHEMA },
  { name: "get_time", description: "Current time in a timezone", input_schema: TIME_SCHEMA },
];

function assertMessageShape(message, maxTokens) {
  assert.equal(message.type, "message");
  assert.equal(message.role, "assistant");
  assert.equal(typeof message.id, "string");
  assert.ok(message.id.length > 0, "non-empty id");
  assert.ok(Array.isArray(message.content), "content is an array of blocks");
  assert.ok(STOP_REASONS.includes(message.stop_reason), `stop_reason ${message.stop_reason}`);
  assert.ok(message.usage.input_tokens > 0, "input_tokens > 0");
  assert.ok(message.usage.output_tokens >= 1 && message.usage.output_tokens <= maxTokens, `output_tokens ${message.usage.output_tokens}`);
  if (message.stop_reason === "max_tokens") assert.equal(message.usage.output_tokens, maxTokens);
}

function textOf(message) {
  return message.content.filter((block) => block.type === "text").map((block) => block.text).join("");
}

t("anthropic: messages.create with a system prompt", async () => {
  const plain = await anthropic.messages.create({ model: "tgi", max_tokens: 6, messages: USER, temperature: 0 });
  const message = await anthropic.messages.create({
    model: "tgi",
    max_tokens: 6,
    system: "You are a terse assistant.",
    messages: USER,
    temperature: 0,
  });
  assertMessageShape(message, 6);
  assert.ok(message.content.length >= 1, "at least one content block");
  assert.equal(message.content[0].type, "text");
  assert.equal(typeof message.content[0].text, "string");
  assert.notEqual(message.stop_reason, "tool_use", "no tools offered");
  assert.ok(message.usage.input_tokens > plain.usage.input_tokens, "the system prompt reaches the prompt");
});

t("anthropic: messages.stream finalMessage matches the text events", async () => {
  const stream = anthropic.messages.stream({ model: "tgi", max_tokens: 6, messages: USER, temperature: 0 });
  let text = "";
  const types = [];
  stream.on("text", (delta) => {
    text += delta;
  });
  stream.on("streamEvent", (event) => {
    types.push(event.type);
  });
  const final = await stream.finalMessage();
  assertMessageShape(final, 6);
  assert.equal(types[0], "message_start");
  assert.equal(types.at(-1), "message_stop");
  assert.ok(types.includes("content_block_start") && types.includes("content_block_stop"), types.join(","));
  assert.equal(final.content[0].type, "text");
  assert.equal(textOf(final), text, "final text is the concatenated text deltas");
});

t("anthropic: tools with a tool_use / tool_result history", async () => {
  const message = await anthropic.messages.create({
    model: "tgi",
    max_tokens: 16,
    tools: TOOLS,
    messages: [
      { role: "user", content: "What is the weather in Paris?" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Let me check." },
          { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } },
        ],
      },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: "toolu_01", content: JSON.stringify({ temperature_c: 21, sky: "clear" }) }],
      },
    ],
    temperature: 0,
  });
  assertMessageShape(message, 16);
  const uses = message.content.filter((block) => block.type === "tool_use");
  for (const block of message.content) assert.ok(["text", "tool_use", "thinking"].includes(block.type), `block type ${block.type}`);
  for (const use of uses) {
    assert.equal(typeof use.id, "string");
    assert.ok(TOOL_NAMES.includes(use.name), `offered tool: ${use.name}`);
    assert.ok(use.input !== null && typeof use.input === "object" && !Array.isArray(use.input), "input is an object");
  }
  assert.equal(message.stop_reason === "tool_use", uses.length > 0, "stop_reason tool_use iff there are tool_use blocks");
});

t("anthropic: messages.countTokens", async () => {
  const short = await anthropic.messages.countTokens({ model: "tgi", messages: USER });
  const long = await anthropic.messages.countTokens({
    model: "tgi",
    system: "You are a terse assistant.",
    messages: [{ role: "user", content: "Say hello, then say goodbye, then say hello once more." }],
  });
  assert.ok(Number.isInteger(short.input_tokens) && short.input_tokens > 0, `input_tokens ${short.input_tokens}`);
  assert.ok(long.input_tokens > short.input_tokens, "a longer request counts more tokens");
});

t("anthropic: missing max_tokens is a 400 in Anthropic's error shape", async () => {
  const { status, json, text } = await postJson("/v1/messages", { model: "tgi", messages: USER }, { "anthropic-version": "2023-06-01" });
  assert.equal(status, 400, text);
  assert.ok(json, `JSON body: ${text}`);
  assert.equal(json.type, "error");
  assert.equal(json.error?.type, "invalid_request_error");
  assert.equal(typeof json.error.message, "string");
  assert.ok(json.error.message.length > 0);
});
