// Client matrix: LangChain's ChatOpenAI (`@langchain/openai` 1.x) against `tgi serve`: invoke,
// stream, and bindTools.
import assert from "node:assert/strict";
import { ChatOpenAI } from "@langchain/openai";
import { AIMessage, AIMessageChunk, HumanMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { BASE_URL, t, TOOL_NAMES } from "./client_matrix.common.mjs";

const MAX_TOKENS = 6;
const chatWith = (maxTokens) =>
  new ChatOpenAI({
    configuration: { baseURL: `${BASE_URL}/v1` },
    apiKey: "unused",
    model: "tgi",
    maxTokens,
    temperature: 0,
    maxRetries: 0,
  });
const chat = chatWith(MAX_TOKENS);
const PROMPT = [new HumanMessage("Say hello")];

t("langchain: ChatOpenAI.invoke", async () => {
  const message = await chat.invoke(PROMPT);
  assert.ok(AIMessage.isInstance(message), "an AIMessage");
  assert.equal(typeof message.content, "string");
  assert.deepEqual(message.tool_calls ?? [], []);
  const usage = message.usage_metadata;
  assert.ok(usage, "usage_metadata present");
  assert.ok(usage.input_tokens > 0, "input_tokens > 0");
  assert.ok(usage.output_tokens >= 1 && usage.output_tokens <= MAX_TOKENS, `output_tokens ${usage.output_tokens}`);
  assert.equal(usage.total_tokens, usage.input_tokens + usage.output_tokens);
});

t("langchain: ChatOpenAI.stream chunks concatenate to the invoke text", async () => {
  const whole = await chat.invoke(PROMPT);
  let text = "";
  let chunks = 0;
  let merged = null;
  for await (const chunk of await chat.stream(PROMPT)) {
    chunks += 1;
    assert.ok(AIMessageChunk.isInstance(chunk), "an AIMessageChunk");
    assert.equal(typeof chunk.content, "string");
    text += chunk.content;
    merged = merged ? merged.concat(chunk) : chunk;
  }
  assert.ok(chunks >= 2, "several chunks");
  assert.equal(text, whole.content);
  assert.equal(merged.content, text);
});

t("langchain: bindTools gives well-formed tool calls", async () => {
  const weather = tool(async ({ city }) => `sunny in ${city}`, {
    name: "get_weather",
    description: "Current weather in a city",
    schema: z.object({ city: z.string().describe("City name") }),
  });
  const time = tool(async ({ timezone }) => `noon in ${timezone}`, {
    name: "get_time",
    description: "Current time in a timezone",
    schema: z.object({ timezone: z.string().describe("IANA timezone") }),
  });
  const message = await chatWith(16)
    .bindTools([weather, time])
    .invoke([new HumanMessage("What is the weather in Paris and the time in Tokyo?")]);
  assert.ok(AIMessage.isInstance(message), "an AIMessage");
  assert.ok(Array.isArray(message.tool_calls), "tool_calls is an array");
  assert.deepEqual(message.invalid_tool_calls ?? [], [], "no unparsable tool calls");
  const ids = new Set();
  for (const call of message.tool_calls) {
    assert.ok(TOOL_NAMES.includes(call.name), `offered tool: ${call.name}`);
    assert.ok(call.args !== null && typeof call.args === "object", "args is an object");
    assert.equal(typeof call.id, "string");
    ids.add(call.id);
  }
  assert.equal(ids.size, message.tool_calls.length, "tool call ids are unique");
  if (message.tool_calls.length === 0) assert.equal(typeof message.content, "string");
});
