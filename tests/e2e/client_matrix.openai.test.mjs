// Client matrix: the official `openai` SDK (6.x) against `tgi serve`: chat (plain, streamed, n,
// tools, developer message, response_format, max_completion_tokens), legacy completions with
// logprobs, and the Responses API (plain, streamed, function tools with a call history).
import assert from "node:assert/strict";
import OpenAI from "openai";
import { BASE_URL, t, CHAT_TOOLS, TOOL_NAMES, WEATHER_SCHEMA, TIME_SCHEMA, assertJsonObjectString } from "./client_matrix.common.mjs";

const openai = new OpenAI({ baseURL: `${BASE_URL}/v1`, apiKey: "unused", maxRetries: 0 });
const USER = [{ role: "user", content: "Say hello" }];

function assertUsage(usage, maxCompletion) {
  assert.ok(usage, "usage present");
  assert.ok(usage.prompt_tokens > 0, "prompt_tokens > 0");
  assert.ok(usage.completion_tokens >= 1, "completion_tokens >= 1");
  assert.ok(usage.completion_tokens <= maxCompletion, `completion_tokens ${usage.completion_tokens} <= ${maxCompletion}`);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
}

t("openai: chat completion", async () => {
  const completion = await openai.chat.completions.create({ model: "tgi", messages: USER, max_tokens: 6, temperature: 0 });
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.choices.length, 1);
  const [choice] = completion.choices;
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, "assistant");
  assert.equal(typeof choice.message.content, "string");
  assert.ok(["length", "stop"].includes(choice.finish_reason), choice.finish_reason);
  assertUsage(completion.usage, 6);
  if (choice.finish_reason === "length") assert.equal(completion.usage.completion_tokens, 6);
});

t("openai: streamed chat with include_usage matches the plain completion", async () => {
  const request = { model: "tgi", messages: USER, max_tokens: 6, temperature: 0 };
  const whole = await openai.chat.completions.create(request);
  const stream = await openai.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let finish = null;
  const usages = [];
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    assert.equal(chunk.object, "chat.completion.chunk");
    if (chunk.usage) usages.push({ usage: chunk.usage, choices: chunk.choices.length });
    for (const choice of chunk.choices) {
      assert.equal(choice.index, 0);
      text += choice.delta.content ?? "";
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.ok(chunks >= 2, "several chunks");
  assert.equal(usages.length, 1, "exactly one usage chunk");
  assert.equal(usages[0].choices, 0, "the usage chunk has no choices");
  for (const field of ["prompt_tokens", "completion_tokens", "total_tokens"]) {
    assert.equal(usages[0].usage[field], whole.usage[field], `streamed usage.${field}`);
  }
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.equal(text, whole.choices[0].message.content);
});

t("openai: n=2 returns two choices with summed usage", async () => {
  const max = 4;
  const single = await openai.chat.completions.create({ model: "tgi", messages: USER, max_tokens: max, temperature: 0 });
  const completion = await openai.chat.completions.create({ model: "tgi", messages: USER, max_tokens: max, temperature: 0, n: 2 });
  assert.equal(completion.choices.length, 2);
  assert.deepEqual(completion.choices.map((c) => c.index).sort(), [0, 1]);
  for (const choice of completion.choices) {
    assert.equal(choice.message.role, "assistant");
    assert.equal(typeof choice.message.content, "string");
    assert.ok(["length", "stop"].includes(choice.finish_reason), choice.finish_reason);
  }
  // The prompt is counted once; completion tokens are summed over the choices (each at least one
  // token, at most max_tokens, exactly max_tokens when it finished on "length").
  assert.equal(completion.usage.prompt_tokens, single.usage.prompt_tokens);
  assert.ok(completion.usage.completion_tokens >= 2, `completion_tokens ${completion.usage.completion_tokens} >= 2`);
  assert.ok(completion.usage.completion_tokens <= 2 * max);
  if (completion.choices.every((c) => c.finish_reason === "length")) assert.equal(completion.usage.completion_tokens, 2 * max);
  assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
});

function assertToolChoiceResult(completion) {
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.choices.length, 1);
  const { message, finish_reason: finish } = completion.choices[0];
  assert.equal(message.role, "assistant");
  const calls = message.tool_calls ?? [];
  if (calls.length === 0) {
    assert.equal(typeof message.content, "string", "no tool calls: a text answer");
    assert.ok(["length", "stop"].includes(finish), `no tool calls: finish_reason ${finish}`);
  } else {
    assert.equal(finish, "tool_calls");
    const ids = new Set();
    for (const call of calls) {
      assert.equal(call.type, "function");
      assert.equal(typeof call.id, "string");
      assert.ok(call.id.startsWith("call_"), `tool call id ${call.id} starts with call_`);
      ids.add(call.id);
      assert.ok(TOOL_NAMES.includes(call.function.name), `offered tool: ${call.function.name}`);
      assertJsonObjectString(call.function.arguments);
    }
    assert.equal(ids.size, calls.length, "tool call ids are unique");
  }
  if (finish === "tool_calls") assert.ok(calls.length > 0, "finish_reason tool_calls only with calls");
  return calls;
}

t("openai: tools with tool_choice auto give text or well-formed tool calls", async () => {
  const completion = await openai.chat.completions.create({
    model: "tgi",
    messages: [{ role: "user", content: "What is the weather in Paris and the time in Tokyo?" }],
    tools: CHAT_TOOLS,
    tool_choice: "auto",
    max_tokens: 16,
    temperature: 0,
  });
  assertToolChoiceResult(completion);
  assertUsage(completion.usage, 16);
});

t("openai: streamed tools with chat.completions.stream and finalChatCompletion", async () => {
  const stream = openai.chat.completions.stream({
    model: "tgi",
    messages: [{ role: "user", content: "What is the weather in Paris?" }],
    tools: CHAT_TOOLS,
    tool_choice: "auto",
    max_tokens: 16,
    temperature: 0,
  });
  let content = "";
  stream.on("content", (delta) => {
    content += delta;
  });
  const final = await stream.finalChatCompletion();
  const calls = assertToolChoiceResult(final);
  if (calls.length === 0) assert.equal(final.choices[0].message.content, content, "final content is the streamed deltas");
});

t("openai: response_format text is accepted", async () => {
  const completion = await openai.chat.completions.create({
    model: "tgi",
    messages: USER,
    response_format: { type: "text" },
    max_tokens: 4,
    temperature: 0,
  });
  assert.equal(typeof completion.choices[0].message.content, "string");
  assertUsage(completion.usage, 4);
});

t("openai: a developer message is accepted and reaches the prompt", async () => {
  const plain = await openai.chat.completions.create({ model: "tgi", messages: USER, max_tokens: 2, temperature: 0 });
  const completion = await openai.chat.completions.create({
    model: "tgi",
    messages: [{ role: "developer", content: "Answer in one short sentence." }, ...USER],
    max_tokens: 2,
    temperature: 0,
  });
  assert.equal(completion.choices[0].message.role, "assistant");
  assert.equal(typeof completion.choices[0].message.content, "string");
  assert.ok(
    completion.usage.prompt_tokens > plain.usage.prompt_tokens,
    `developer message adds prompt tokens (${completion.usage.prompt_tokens} > ${plain.usage.prompt_tokens})`,
  );
});

t("openai: max_completion_tokens is honoured", async () => {
  const completion = await openai.chat.completions.create({ model: "tgi", messages: USER, max_completion_tokens: 3, temperature: 0 });
  assertUsage(completion.usage, 3);
  if (completion.choices[0].finish_reason === "length") assert.equal(completion.usage.completion_tokens, 3);
});

t("openai: completions with logprobs", async () => {
  const completion = await openai.completions.create({ model: "tgi", prompt: "Once upon a time", max_tokens: 4, logprobs: 2, temperature: 0 });
  assert.equal(completion.object, "text_completion");
  const [choice] = completion.choices;
  assert.equal(typeof choice.text, "string");
  assert.ok(choice.logprobs, "choices[0].logprobs present");
  const { tokens, token_logprobs: logprobs } = choice.logprobs;
  assert.ok(Array.isArray(tokens) && tokens.length >= 1 && tokens.length <= 4, `tokens: ${JSON.stringify(tokens)}`);
  assert.equal(tokens.length, completion.usage.completion_tokens);
  assert.equal(logprobs.length, tokens.length);
  for (const lp of logprobs) assert.ok(typeof lp === "number" && lp <= 0, `logprob ${lp} <= 0`);
  if (choice.logprobs.top_logprobs != null) assert.equal(choice.logprobs.top_logprobs.length, tokens.length);
});

function messageItems(response) {
  return response.output.filter((item) => item.type === "message");
}

function assertResponseShape(response, maxOutput) {
  assert.equal(response.object, "response");
  assert.equal(typeof response.id, "string");
  assert.ok(["completed", "incomplete"].includes(response.status), `status ${response.status}`);
  if (response.status === "incomplete") assert.equal(response.incomplete_details?.reason, "max_output_tokens");
  assert.ok(Array.isArray(response.output));
  assert.ok(response.usage.input_tokens > 0, "input_tokens > 0");
  assert.ok(response.usage.output_tokens >= 1 && response.usage.output_tokens <= maxOutput, `output_tokens ${response.usage.output_tokens}`);
  assert.equal(response.usage.total_tokens, response.usage.input_tokens + response.usage.output_tokens);
}

t("openai: responses.create", async () => {
  const response = await openai.responses.create({
    model: "tgi",
    instructions: "You are terse.",
    input: "Say hello",
    max_output_tokens: 8,
    temperature: 0,
  });
  assertResponseShape(response, 8);
  const messages = messageItems(response);
  assert.equal(messages.length, 1, "one message item");
  assert.equal(messages[0].role, "assistant");
  const texts = messages[0].content.filter((part) => part.type === "output_text");
  assert.equal(texts.length, 1, "one output_text part");
  assert.equal(typeof texts[0].text, "string");
  assert.equal(response.output_text, texts[0].text);
});

t("openai: responses.stream events and finalResponse", async () => {
  const stream = openai.responses.stream({
    model: "tgi",
    instructions: "You are terse.",
    input: "Count to three",
    max_output_tokens: 8,
    temperature: 0,
  });
  const types = [];
  const sequence = [];
  let deltas = "";
  for await (const event of stream) {
    types.push(event.type);
    sequence.push(event.sequence_number);
    if (event.type === "response.output_text.delta") deltas += event.delta;
  }
  const final = await stream.finalResponse();
  assert.equal(types[0], "response.created");
  assert.ok(types.includes("response.created"));
  const terminal = types.filter((type) => ["response.completed", "response.incomplete", "response.failed"].includes(type));
  assert.equal(terminal.length, 1, `one terminal event: ${types.join(",")}`);
  assert.equal(types.at(-1), terminal[0], "the terminal event is the last");
  // response.completed, or response.incomplete when max_output_tokens cut the answer (as OpenAI does).
  assert.equal(terminal[0], final.status === "incomplete" ? "response.incomplete" : "response.completed");
  for (let i = 1; i < sequence.length; i += 1) assert.ok(sequence[i] > sequence[i - 1], "sequence_number increases");
  assertResponseShape(final, 8);
  assert.equal(messageItems(final).length, 1, "one message item");
  assert.equal(final.output_text, deltas, "the final output_text is the concatenated deltas");
});

t("openai: responses with function tools and a function_call history", async () => {
  const tools = [
    { type: "function", name: "get_weather", description: "Current weather in a city", parameters: WEATHER_SCHEMA },
    { type: "function", name: "get_time", description: "Current time in a timezone", parameters: TIME_SCHEMA },
  ];
  const question = { role: "user", content: "What is the weather in Paris?" };
  const base = { model: "tgi", tools, max_output_tokens: 16, temperature: 0 };
  const first = await openai.responses.create({ ...base, input: [question] });
  assertResponseShape(first, 16);
  const response = await openai.responses.create({
    ...base,
    input: [
      question,
      { type: "function_call", call_id: "call_weather_1", name: "get_weather", arguments: JSON.stringify({ city: "Paris" }) },
      { type: "function_call_output", call_id: "call_weather_1", output: JSON.stringify({ temperature_c: 21, sky: "clear" }) },
    ],
  });
  assertResponseShape(response, 16);
  assert.ok(response.usage.input_tokens > first.usage.input_tokens, "the call history reaches the prompt");
  for (const item of response.output) {
    assert.ok(["message", "function_call", "reasoning"].includes(item.type), `output item type ${item.type}`);
    if (item.type === "function_call") {
      assert.ok(TOOL_NAMES.includes(item.name), `offered tool: ${item.name}`);
      assert.equal(typeof item.call_id, "string");
      assertJsonObjectString(item.arguments);
    }
  }
});
