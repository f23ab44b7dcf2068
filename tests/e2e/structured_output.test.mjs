// Structured output (constrained decoding) end to end, against a `tgi serve` with the tiny
// random-weight model (BASE_URL): TGI's /generate and /generate_stream with `parameters.grammar`
// (json, json_object, json_schema, regex, gbnf), OpenAI's response_format and forced tool calls,
// and the clients people use for them: openai (parse + zodResponseFormat), LangChain
// withStructuredOutput, the AI SDK's generateObject / toolChoice 'required', and
// @huggingface/inference textGeneration.
//
// The model's output is random, so the tests assert what the constraint guarantees: every output
// that finished (eos / stop, not length) satisfies its constraint, checked by a validator written
// here for the schemas used (independent of the server's compiler), and, where python3 has the
// `jsonschema` module, once more by it at the end. Bounded schemas (maxLength, maxItems, enums,
// integer ranges, additionalProperties false) must finish within the token budget.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import OpenAI from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import { ChatOpenAI } from "@langchain/openai";
import { HumanMessage } from "@langchain/core/messages";
import { generateObject, generateText, tool, jsonSchema as aiJsonSchema } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { InferenceClient } from "@huggingface/inference";
import { z } from "zod";

const BASE_URL = process.env.BASE_URL;
if (!BASE_URL) throw new Error("BASE_URL must point at a running `tgi serve`");
const t = (name, fn) => test(name, { timeout: 90_000 }, fn);

// ---- a small independent JSON Schema checker (the keywords the schemas below use) ---------------

const isDate = (s) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1];
  return d <= days;
};
const typeOf = (v) =>
  v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v === "number" ? "number" : typeof v;
const deepEqual = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const HANDLED = new Set([
  "$schema", "$id", "$defs", "definitions", "$ref", "title", "description", "default", "examples",
  "type", "enum", "const", "properties", "required", "additionalProperties", "items", "minItems",
  "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum",
  "exclusiveMinimum", "exclusiveMaximum", "anyOf", "oneOf", "allOf",
]);

// schemaErrors(schema, value): a list of what is wrong (empty when the value validates).
export function schemaErrors(schema, value, root = schema, at = "$") {
  const errors = [];
  const err = (what) => errors.push(`${at}: ${what}`);
  if (schema === true) return errors;
  if (schema === false) return [`${at}: false schema`];
  for (const key of Object.keys(schema)) if (!HANDLED.has(key)) throw new Error(`test checker lacks keyword ${key}`);
  if (schema.$ref) {
    assert.match(schema.$ref, /^#\//, "local refs only");
    const target = schema.$ref.slice(2).split("/").reduce((node, part) => node[part], root);
    errors.push(...schemaErrors(target, value, root, at));
  }
  const type = typeOf(value);
  if (schema.type) {
    const types = [].concat(schema.type);
    if (!types.includes(type) && !(type === "integer" && types.includes("number"))) err(`type ${type}, want ${types}`);
  }
  if (schema.enum && !schema.enum.some((e) => deepEqual(e, value))) err(`${JSON.stringify(value)} not in enum`);
  if ("const" in schema && !deepEqual(schema.const, value)) err(`not const ${JSON.stringify(schema.const)}`);
  if (type === "string") {
    const n = [...value].length;
    if (schema.minLength !== undefined && n < schema.minLength) err(`shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && n > schema.maxLength) err(`longer than ${schema.maxLength}`);
    if (schema.pattern && !new RegExp(schema.pattern, "u").test(value)) err(`${JSON.stringify(value)} !~ ${schema.pattern}`);
    if (schema.format === "date" && !isDate(value)) err(`${JSON.stringify(value)} is not a date`);
  }
  if (type === "integer" || type === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) err(`${value} < ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) err(`${value} > ${schema.maximum}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) err(`${value} <= ${schema.exclusiveMinimum}`);
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) err(`${value} >= ${schema.exclusiveMaximum}`);
  }
  if (type === "array") {
    if (schema.minItems !== undefined && value.length < schema.minItems) err(`fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) err(`more than ${schema.maxItems} items`);
    if (schema.uniqueItems && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) err("items not unique");
    if (schema.items !== undefined) value.forEach((v, i) => errors.push(...schemaErrors(schema.items, v, root, `${at}[${i}]`)));
  }
  if (type === "object") {
    for (const name of schema.required ?? []) if (!(name in value)) err(`missing ${name}`);
    for (const [name, v] of Object.entries(value)) {
      if (schema.properties && name in schema.properties) {
        errors.push(...schemaErrors(schema.properties[name], v, root, `${at}.${name}`));
      } else if (schema.additionalProperties !== undefined) {
        errors.push(...schemaErrors(schema.additionalProperties, v, root, `${at}.${name}`));
      }
    }
  }
  for (const sub of schema.allOf ?? []) errors.push(...schemaErrors(sub, value, root, at));
  if (schema.anyOf && !schema.anyOf.some((sub) => schemaErrors(sub, value, root, at).length === 0)) err("no anyOf branch");
  if (schema.oneOf && schema.oneOf.filter((sub) => schemaErrors(sub, value, root, at).length === 0).length !== 1) err("not exactly one oneOf branch");
  return errors;
}

// Every (schema, instance) pair checked, for the second opinion of python's jsonschema at the end.
const CHECKED = [];
// assertValid(schema, text): text is JSON (with the bounded white space the grammar allows around
// it) whose value validates; returns the value.
function assertValid(schema, text, what = "output") {
  assert.equal(typeof text, "string", `${what} is a string`);
  let value;
  assert.doesNotThrow(() => {
    value = JSON.parse(text);
  }, `${what} parses as JSON: ${JSON.stringify(text)}`);
  assertValidValue(schema, value, `${what} ${JSON.stringify(text)}`);
  return value;
}
function assertValidValue(schema, value, what = "value") {
  assert.deepEqual(schemaErrors(schema, value), [], `${what} validates`);
  CHECKED.push({ schema, value });
  return value;
}

// The self-test: the checker refuses what it must, or its passes mean nothing.
t("checker: refuses invalid instances of the test schemas", () => {
  const good = { name: "Ann", age: 30, color: "red", tags: ["a"], code: "AB-123", born: "2024-02-29" };
  assert.deepEqual(schemaErrors(PERSON, good), []);
  for (const bad of [
    { ...good, age: 151 },
    { ...good, age: 1.5 },
    { ...good, color: "pink" },
    { ...good, tags: [] },
    { ...good, tags: ["a", "b", "c", "d"] },
    { ...good, code: "ab-123" },
    { ...good, born: "2023-02-29" },
    { ...good, name: "x".repeat(13) },
    { ...good, extra: 1 },
    (({ born, ...rest }) => rest)(good),
  ]) {
    assert.notDeepEqual(schemaErrors(PERSON, bad), [], `refuses ${JSON.stringify(bad)}`);
  }
});

// ---- plain HTTP helpers ---------------------------------------------------------------------------

async function post(path, body) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // callers assert on status first and print text
  }
  return { status: response.status, json, text };
}

async function generate(grammar, { seed, maxNewTokens = 256, inputs = "Fill in the form:", extra = {} } = {}) {
  const parameters = { max_new_tokens: maxNewTokens, details: true, grammar, ...extra };
  if (seed !== undefined) Object.assign(parameters, { do_sample: true, seed });
  const { status, json, text } = await post("/generate", { inputs, parameters });
  assert.equal(status, 200, text);
  return json;
}

async function sse(path, body) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  const events = [];
  for (const block of (await response.text()).split("\n\n")) {
    const data = block.split("\n").find((line) => line.startsWith("data:"));
    if (!data) continue;
    const payload = data.slice(5).trim();
    if (payload !== "[DONE]") events.push(JSON.parse(payload));
  }
  return events;
}

async function assertHealthy() {
  const response = await fetch(`${BASE_URL}/health`);
  assert.equal(response.status, 200, "the server is healthy");
  const out = await generate({ type: "regex", value: "(yes|no)" }, { maxNewTokens: 8 });
  assert.match(out.generated_text, /^(yes|no)$/, "and still generates under a grammar");
}

// ---- the schemas ----------------------------------------------------------------------------------

const PERSON = {
  type: "object",
  properties: {
    name: { type: "string", maxLength: 12 },
    age: { type: "integer", minimum: 0, maximum: 150 },
    color: { enum: ["red", "green", "blue"] },
    tags: { type: "array", items: { type: "string", maxLength: 8 }, minItems: 1, maxItems: 3 },
    code: { type: "string", pattern: "^[A-Z]{2}-[0-9]{3}$" },
    born: { type: "string", format: "date" },
  },
  required: ["name", "age", "color", "tags", "code", "born"],
  additionalProperties: false,
};
// $defs, $ref, anyOf, nullable, const, booleans.
const ORDER = {
  $defs: {
    item: {
      type: "object",
      properties: { sku: { type: "string", pattern: "^[a-z]{3}[0-9]$" }, qty: { type: "integer", minimum: 1, maximum: 9 } },
      required: ["sku", "qty"],
      additionalProperties: false,
    },
  },
  type: "object",
  properties: {
    kind: { const: "order" },
    items: { type: "array", items: { $ref: "#/$defs/item" }, minItems: 1, maxItems: 2 },
    gift: { type: "boolean" },
    note: { anyOf: [{ type: "null" }, { type: "string", maxLength: 6 }] },
  },
  required: ["kind", "items", "gift", "note"],
  additionalProperties: false,
};
const FLAG = { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"], additionalProperties: false };

const PHONE = "\\(\\d{3}\\) \\d{3}-\\d{4}";
const EMAIL = "[a-z]{1,8}@[a-z]{1,8}\\.(com|org)";
const YES_NO = 'root ::= "yes" | "no"';
// Bounded arithmetic: up to 4 terms, each a number of up to 3 digits or a parenthesized pair.
const ARITH = ['root ::= term (op term){0,3}', 'term ::= num | "(" num op num ")"', "op ::= [-+*]", "num ::= [0-9]{1,3}"].join("\n");
const ARITH_RE = /^(\d{1,3}|\(\d{1,3}[-+*]\d{1,3}\))([-+*](\d{1,3}|\(\d{1,3}[-+*]\d{1,3}\))){0,3}$/;

const SEEDS = [1, 2, 3];

// ---- 1. TGI /generate ------------------------------------------------------------------------------

t("info: grammar_support is true", async () => {
  const info = await (await fetch(`${BASE_URL}/info`)).json();
  assert.equal(info.grammar_support, true);
});

t("generate: json schema (string, integer range, enum, array bounds, pattern, date) over seeds", async () => {
  for (const seed of SEEDS) {
    const out = await generate({ type: "json", value: PERSON }, { seed });
    assert.equal(out.details.finish_reason, "eos_token", `seed ${seed}: a bounded schema finishes: ${out.generated_text}`);
    assert.ok(out.details.generated_tokens <= 256);
    assertValid(PERSON, out.generated_text, `seed ${seed}`);
  }
  // Greedy too (no seed).
  const greedy = await generate({ type: "json", value: PERSON });
  assert.equal(greedy.details.finish_reason, "eos_token");
  assertValid(PERSON, greedy.generated_text, "greedy");
});

t("generate: $defs/$ref, const, anyOf with null, boolean", async () => {
  for (const seed of SEEDS) {
    const out = await generate({ type: "json", value: ORDER }, { seed });
    assert.equal(out.details.finish_reason, "eos_token", out.generated_text);
    const value = assertValid(ORDER, out.generated_text, `seed ${seed}`);
    assert.equal(value.kind, "order");
  }
});

t("generate: json_schema {name, schema}, json_object with a schema string, json with a string", async () => {
  const shapes = [
    { type: "json_schema", value: { name: "flag", schema: FLAG } },
    { type: "json_schema", value: { schema: FLAG } },
    { type: "json_object", value: JSON.stringify(FLAG) },
    { type: "json", value: JSON.stringify(FLAG) },
    { type: "json_object", value: FLAG },
  ];
  for (const grammar of shapes) {
    const out = await generate(grammar, { seed: 4, maxNewTokens: 64 });
    assert.equal(out.details.finish_reason, "eos_token", `${JSON.stringify(grammar)}: ${out.generated_text}`);
    assertValid(FLAG, out.generated_text, JSON.stringify(grammar));
  }
});

t("generate: regex (phone number, e-mail)", async () => {
  for (const seed of SEEDS) {
    const phone = await generate({ type: "regex", value: PHONE }, { seed, maxNewTokens: 64 });
    assert.equal(phone.details.finish_reason, "eos_token", phone.generated_text);
    assert.match(phone.generated_text, /^\(\d{3}\) \d{3}-\d{4}$/);
    const email = await generate({ type: "regex", value: EMAIL }, { seed, maxNewTokens: 64 });
    assert.equal(email.details.finish_reason, "eos_token", email.generated_text);
    assert.match(email.generated_text, /^[a-z]{1,8}@[a-z]{1,8}\.(com|org)$/);
  }
  // Anchors are accepted and mean the whole output anyway.
  const anchored = await generate({ type: "regex", value: "^\\+1-[0-9]{3}-[0-9]{4}$" }, { seed: 5, maxNewTokens: 64 });
  assert.match(anchored.generated_text, /^\+1-[0-9]{3}-[0-9]{4}$/);
});

t("generate: gbnf (yes/no, bounded arithmetic)", async () => {
  const answers = new Set();
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const out = await generate({ type: "gbnf", value: YES_NO }, { seed, maxNewTokens: 16 });
    assert.equal(out.details.finish_reason, "eos_token");
    assert.match(out.generated_text, /^(yes|no)$/);
    answers.add(out.generated_text);
  }
  for (const seed of SEEDS) {
    const out = await generate({ type: "gbnf", value: ARITH }, { seed, maxNewTokens: 64 });
    assert.equal(out.details.finish_reason, "eos_token", out.generated_text);
    assert.match(out.generated_text, ARITH_RE);
  }
});

t("generate: unbounded grammar that runs out of tokens is a valid prefix, finish_reason length", async () => {
  const out = await generate({ type: "gbnf", value: 'root ::= [0-9]+ ("." [0-9]+)?' }, { seed: 7, maxNewTokens: 12 });
  if (out.details.finish_reason === "length") {
    assert.equal(out.details.generated_tokens, 12);
    assert.match(out.generated_text, /^[0-9]+(\.[0-9]*)?$/, "a prefix of the language");
  } else {
    assert.match(out.generated_text, /^[0-9]+(\.[0-9]+)?$/);
  }
});

t("generate_stream: tokens concatenate to generated_text, which validates", async () => {
  for (const seed of [1, 2]) {
    const body = { inputs: "Fill in the form:", parameters: { max_new_tokens: 256, do_sample: true, seed, details: true, grammar: { type: "json", value: PERSON } } };
    const events = await sse("/generate_stream", body);
    assert.ok(events.length >= 2, "several events");
    const last = events.at(-1);
    assert.equal(typeof last.generated_text, "string");
    for (const event of events.slice(0, -1)) assert.equal(event.generated_text, null);
    const text = events.filter((e) => !e.token.special).map((e) => e.token.text).join("");
    assert.equal(text, last.generated_text);
    assert.equal(last.details.finish_reason, "eos_token");
    assertValid(PERSON, last.generated_text, `stream seed ${seed}`);
    const whole = await generate({ type: "json", value: PERSON }, { seed });
    assert.equal(last.generated_text, whole.generated_text, "the stream gives /generate's text");
  }
});

t("generate: best_of=2 with a grammar, every sequence validates", async () => {
  const out = await generate({ type: "json", value: ORDER }, { extra: { best_of: 2, do_sample: true } });
  assert.equal(out.details.best_of_sequences.length, 1);
  for (const sequence of [{ ...out.details, generated_text: out.generated_text }, ...out.details.best_of_sequences]) {
    assert.equal(sequence.finish_reason, "eos_token", sequence.generated_text);
    assertValid(ORDER, sequence.generated_text, "best_of sequence");
  }
});

t("generate: a batch of concurrent requests with different grammars", async () => {
  const requests = [
    generate({ type: "json", value: PERSON }, { seed: 11 }),
    generate({ type: "regex", value: PHONE }, { seed: 12, maxNewTokens: 64 }),
    generate({ type: "gbnf", value: ARITH }, { seed: 13, maxNewTokens: 64 }),
    generate({ type: "json", value: ORDER }, { seed: 14 }),
    post("/generate", { inputs: "Hello", parameters: { max_new_tokens: 16, do_sample: true, seed: 15 } }),
  ];
  const [person, phone, arith, order, free] = await Promise.all(requests);
  assertValid(PERSON, person.generated_text, "concurrent person");
  assert.match(phone.generated_text, /^\(\d{3}\) \d{3}-\d{4}$/);
  assert.match(arith.generated_text, ARITH_RE);
  assertValid(ORDER, order.generated_text, "concurrent order");
  assert.equal(free.status, 200, "an unconstrained request beside them");
  // Batched or alone, a seeded sequence is the same.
  const alone = await generate({ type: "json", value: PERSON }, { seed: 11 });
  assert.equal(person.generated_text, alone.generated_text);
});

// ---- 2. errors and hostile inputs ------------------------------------------------------------------

async function assertInvalidGrammar(grammar, why, path = "/generate") {
  const body =
    path === "/generate"
      ? { inputs: "x", parameters: { max_new_tokens: 4, grammar } }
      : { model: "tgi", messages: [{ role: "user", content: "x" }], max_tokens: 4, response_format: grammar };
  const { status, json, text } = await post(path, body);
  assert.equal(status, 422, text);
  assert.deepEqual(Object.keys(json ?? {}).sort(), ["error", "error_type"], text);
  assert.equal(json.error_type, "validation");
  assert.ok(json.error.startsWith("Input validation error: grammar is not valid: "), json.error);
  if (why) assert.match(json.error, why);
}

t("errors: constraints that do not compile are 422 validation errors in TGI's shape", async () => {
  await assertInvalidGrammar({ type: "json", value: { type: "string", minLength: -1 } }, /minLength/);
  await assertInvalidGrammar({ type: "json", value: { type: "strange" } }, /strange/);
  await assertInvalidGrammar({ type: "json", value: { $ref: "#/$defs/nope" } }, /\$ref/);
  await assertInvalidGrammar({ type: "json", value: "{not json" }, /JSON/);
  await assertInvalidGrammar({ type: "regex", value: "(abc" }, /regex/);
  await assertInvalidGrammar({ type: "regex", value: "a{1000000}" }, /1000000/);
  await assertInvalidGrammar({ type: "gbnf", value: "root ::= undefined-rule" }, /undefined rule/);
  await assertInvalidGrammar({ type: "gbnf", value: "root ::= (" }, /GBNF/);
  await assertInvalidGrammar({ type: "xml", value: "<a/>" }, /unknown grammar type/);
  await assertInvalidGrammar({ type: "json" }, /value/);
  // The same on the OpenAI routes.
  await assertInvalidGrammar(
    { type: "json_schema", json_schema: { name: "x", schema: { type: "strange" } } },
    /strange/,
    "/v1/chat/completions",
  );
  await assertInvalidGrammar({ type: "regex", value: "[z-a]" }, /regex/, "/v1/chat/completions");
  // And on the streaming route, as TGI does it: the SSE stream carries the error as its one event.
  const stream = await fetch(`${BASE_URL}/generate_stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ inputs: "x", parameters: { max_new_tokens: 4, grammar: { type: "regex", value: "(" } } }),
  });
  const streamText = await stream.text();
  if (stream.status === 200) {
    const events = streamText.split("\n").filter((line) => line.startsWith("data:")).map((line) => JSON.parse(line.slice(5)));
    assert.equal(events.length, 1, streamText);
    assert.equal(events[0].error_type, "validation", streamText);
    assert.match(events[0].error, /^Input validation error: grammar is not valid: regex/);
  } else {
    assert.equal(stream.status, 422, streamText);
    assert.equal(JSON.parse(streamText).error_type, "validation");
  }
});

t("errors: tool_choice naming a tool that is not offered, and response_format with tools", async () => {
  const tools = [{ type: "function", function: { name: "get_time", parameters: FLAG } }];
  const both = await post("/v1/chat/completions", {
    model: "tgi",
    messages: [{ role: "user", content: "x" }],
    max_tokens: 4,
    response_format: { type: "json_object" },
    tools,
  });
  assert.equal(both.status, 422, both.text);
  assert.deepEqual(both.json, { error: "Tool error: Grammar and tools are mutually exclusive", error_type: "tool_error" });
  const missing = await post("/v1/chat/completions", {
    model: "tgi",
    messages: [{ role: "user", content: "x" }],
    max_tokens: 4,
    tools,
    tool_choice: { type: "function", function: { name: "nope" } },
  });
  assert.equal(missing.status, 422, missing.text);
  assert.equal(missing.json?.error_type, "tool_error", missing.text);
});

t("hostile: huge, deep, recursive and explosive constraints leave the server healthy", async () => {
  // ~5 MB (the server runs with a larger --payload-limit), 60 levels deep, each with a long description.
  let deep = { type: "integer", minimum: 0, maximum: 9 };
  for (let i = 0; i < 60; i += 1) {
    deep = { type: "object", description: "d".repeat(80_000), properties: { a: deep }, required: ["a"], additionalProperties: false };
  }
  const deepBody = JSON.stringify({ inputs: "x", parameters: { max_new_tokens: 16, grammar: { type: "json", value: deep } } });
  assert.ok(deepBody.length > 4_500_000, `${deepBody.length} bytes`);
  const big = await post("/generate", deepBody);
  assert.equal(big.status, 200, big.text.slice(0, 500));
  assert.match(big.json.generated_text, /^\s*\{\s*"a"/, "starts the nested object");
  // A 100k-value enum (~1.2 MB): compiled or refused (a quadratic compile would hit the test's timeout), and what comes out is in it.
  const values = Array.from({ length: 100_000 }, (_, i) => `v${String(i).padStart(6, "0")}`);
  const wide = await post("/generate", { inputs: "x", parameters: { max_new_tokens: 16, do_sample: true, seed: 1, grammar: { type: "json", value: { enum: values } } } });
  assert.ok(wide.status === 200 || (wide.status === 422 && wide.json?.error_type === "validation"), wide.text.slice(0, 300));
  if (wide.status === 200) assert.match(wide.json.generated_text, /^\s*"v\d{0,6}/);
  // Nesting beyond the JSON depth limit: refused, not a crash.
  let tooDeep = { type: "integer" };
  for (let i = 0; i < 200; i += 1) tooDeep = { type: "array", items: tooDeep };
  const deepRefused = await post("/generate", { inputs: "x", parameters: { max_new_tokens: 4, grammar: { type: "json", value: tooDeep } } });
  assert.equal(deepRefused.status, 400, deepRefused.text.slice(0, 300));
  assert.match(deepRefused.text, /recursion limit/);
  // Recursive schemas: a tree through $ref, and a ref cycle that never reaches a value.
  const tree = {
    $defs: { node: { type: "object", properties: { kids: { type: "array", items: { $ref: "#/$defs/node" }, maxItems: 2 } }, additionalProperties: false } },
    $ref: "#/$defs/node",
  };
  const recursive = await generate({ type: "json", value: tree }, { seed: 3, maxNewTokens: 48 });
  if (recursive.details.finish_reason !== "length") assertValid(tree, recursive.generated_text, "recursive tree");
  const cycle = await post("/generate", {
    inputs: "x",
    parameters: { max_new_tokens: 4, grammar: { type: "json", value: { $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } }, $ref: "#/$defs/a" } } },
  });
  assert.ok([200, 422].includes(cycle.status), cycle.text);
  if (cycle.status === 422) assert.equal(cycle.json.error_type, "validation");
  // Explosive regexes and GBNF: bounded by the compile limits, answered (the test's timeout catches a runaway).
  for (const grammar of [
    { type: "regex", value: "a{1000000}" },
    { type: "regex", value: "(a{100}){100}(b{100}){100}" },
    { type: "regex", value: "(.*a){30}" },
    { type: "gbnf", value: 'root ::= x{9999}\nx ::= y{9999}\ny ::= "a"' },
  ]) {
    const { status, json, text } = await post("/generate", { inputs: "x", parameters: { max_new_tokens: 4, grammar } });
    assert.ok(status === 200 || (status === 422 && json?.error_type === "validation"), `${JSON.stringify(grammar)}: ${status} ${text.slice(0, 300)}`);
  }
  // A grammar value of the wrong JSON type.
  const wrong = await post("/generate", { inputs: "x", parameters: { max_new_tokens: 4, grammar: { type: "regex", value: 42 } } });
  assert.equal(wrong.status, 422, wrong.text);
  await assertHealthy();
});

// ---- 3. the openai SDK -----------------------------------------------------------------------------

const openai = new OpenAI({ baseURL: `${BASE_URL}/v1`, apiKey: "unused", maxRetries: 0 });
const ASK = [{ role: "user", content: "Describe a person." }];

t("openai: response_format json_schema (strict) content validates", async () => {
  for (const seed of SEEDS) {
    const completion = await openai.chat.completions.create({
      model: "tgi",
      messages: ASK,
      max_tokens: 256,
      seed,
      response_format: { type: "json_schema", json_schema: { name: "person", schema: PERSON, strict: true } },
    });
    const [choice] = completion.choices;
    assert.equal(choice.finish_reason, "stop", choice.message.content);
    assertValid(PERSON, choice.message.content, `chat seed ${seed}`);
  }
  // TGI's own shape is accepted on the chat route too.
  const tgiShape = await post("/v1/chat/completions", { model: "tgi", messages: ASK, max_tokens: 64, seed: 1, response_format: { type: "json", value: FLAG } });
  assert.equal(tgiShape.status, 200, tgiShape.text);
  assertValid(FLAG, tgiShape.json.choices[0].message.content, "chat with TGI's json");
  // {"type": "text"} is no constraint at all.
  const text = await openai.chat.completions.create({ model: "tgi", messages: ASK, max_tokens: 4, seed: 1, response_format: { type: "text" } });
  assert.equal(typeof text.choices[0].message.content, "string");
});

const ZPerson = z.object({
  name: z.string().max(10),
  age: z.number().int().min(0).max(120),
  role: z.enum(["admin", "user", "guest"]),
  emails: z.array(z.string().max(10)).max(2),
  active: z.boolean(),
});

t("openai: chat.completions.parse with zodResponseFormat gives message.parsed", async () => {
  const format = zodResponseFormat(ZPerson, "person");
  for (const seed of [1, 2]) {
    const completion = await openai.chat.completions.parse({ model: "tgi", messages: ASK, max_tokens: 256, seed, response_format: format });
    const [choice] = completion.choices;
    assert.equal(choice.finish_reason, "stop", choice.message.content);
    assert.ok(choice.message.parsed, "parsed is set");
    assert.deepEqual(ZPerson.parse(choice.message.parsed), choice.message.parsed);
    assertValidValue(format.json_schema.schema, choice.message.parsed, "zodResponseFormat parsed");
  }
});

t("openai: json_object mode gives a JSON object", async () => {
  // Any object is unbounded: a random model often runs out of tokens inside a string. Those must
  // still be a prefix of an object; with these seeds some finish, and those must be objects.
  let finished = 0;
  for (const seed of [1, 2, 3, 4]) {
    const completion = await openai.chat.completions.create({ model: "tgi", messages: [{ role: "user", content: "hi" }], max_tokens: 96, seed, response_format: { type: "json_object" } });
    const [choice] = completion.choices;
    if (choice.finish_reason === "length") {
      assert.match(choice.message.content, /^\s*\{/, "a prefix of an object");
      continue;
    }
    finished += 1;
    assert.equal(choice.finish_reason, "stop");
    const value = JSON.parse(choice.message.content);
    assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), choice.message.content);
  }
  assert.ok(finished >= 1, "at least one seed finishes");
});

t("openai: streaming with response_format concatenates to valid JSON", async () => {
  const request = { model: "tgi", messages: ASK, max_tokens: 256, seed: 2, response_format: { type: "json_schema", json_schema: { name: "order", schema: ORDER, strict: true } } };
  const whole = await openai.chat.completions.create(request);
  const stream = await openai.chat.completions.create({ ...request, stream: true });
  let text = "";
  let chunks = 0;
  let finish = null;
  for await (const chunk of stream) {
    chunks += 1;
    for (const choice of chunk.choices) {
      text += choice.delta.content ?? "";
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  assert.ok(chunks >= 3, "several chunks");
  assert.equal(finish, "stop");
  assert.equal(text, whole.choices[0].message.content);
  assertValid(ORDER, text, "streamed chat");
});

const WEATHER = {
  type: "object",
  properties: { city: { type: "string", maxLength: 10 }, unit: { enum: ["celsius", "fahrenheit"] }, days: { type: "integer", minimum: 1, maximum: 7 } },
  required: ["city", "unit", "days"],
  additionalProperties: false,
};
const TIME = { type: "object", properties: { timezone: { type: "string", pattern: "^[A-Z][a-z]{1,8}/[A-Z][a-z]{1,8}$" } }, required: ["timezone"], additionalProperties: false };
const TOOLS = [
  { type: "function", function: { name: "get_weather", description: "Weather forecast", parameters: WEATHER } },
  { type: "function", function: { name: "get_time", description: "Time in a timezone", parameters: TIME } },
];
const SCHEMA_OF = { get_weather: WEATHER, get_time: TIME };
const ASK_TOOL = [{ role: "user", content: "What is the weather in Paris?" }];

function assertToolCall(call, forced) {
  assert.equal(call.type, "function");
  assert.equal(typeof call.id, "string");
  assert.ok(call.id.length > 0);
  if (forced) assert.equal(call.function.name, forced);
  assert.ok(call.function.name in SCHEMA_OF, `an offered tool: ${call.function.name}`);
  return assertValid(SCHEMA_OF[call.function.name], call.function.arguments, `${call.function.name} arguments`);
}

t("openai: tool_choice required and a named function force a valid call", async () => {
  for (const [tool_choice, forced] of [
    ["required", null],
    [{ type: "function", function: { name: "get_time" } }, "get_time"],
    [{ type: "function", function: { name: "get_weather" } }, "get_weather"],
  ]) {
    for (const seed of [1, 2]) {
      const completion = await openai.chat.completions.create({ model: "tgi", messages: ASK_TOOL, max_tokens: 200, seed, tools: TOOLS, tool_choice, parallel_tool_calls: false });
      const [choice] = completion.choices;
      assert.ok(completion.usage.completion_tokens < 200, "finished before the budget");
      assert.equal(choice.finish_reason, "tool_calls", JSON.stringify(choice.message));
      assert.equal(choice.message.tool_calls?.length, 1, JSON.stringify(choice.message));
      assertToolCall(choice.message.tool_calls[0], forced);
    }
  }
});

t("openai: tool_choice required with parallel_tool_calls gives one or more valid calls", async () => {
  let finished = 0;
  for (const seed of [3, 4]) {
    const completion = await openai.chat.completions.create({ model: "tgi", messages: ASK_TOOL, max_tokens: 200, seed, tools: TOOLS, tool_choice: "required", parallel_tool_calls: true });
    const [choice] = completion.choices;
    if (completion.usage.completion_tokens === 200) continue;  // a list of calls is unbounded
    finished += 1;
    assert.equal(choice.finish_reason, "tool_calls", JSON.stringify(choice.message));
    assert.ok(choice.message.tool_calls.length >= 1);
    for (const call of choice.message.tool_calls) assertToolCall(call, null);
  }
  assert.ok(finished >= 1, "at least one seed finishes");
});

t("openai: streamed forced tool call arrives as argument fragments that concatenate to valid JSON", async () => {
  const request = { model: "tgi", messages: ASK_TOOL, max_tokens: 200, seed: 2, tools: TOOLS, tool_choice: { type: "function", function: { name: "get_weather" } } };
  const whole = await openai.chat.completions.create(request);
  const stream = await openai.chat.completions.create({ ...request, stream: true });
  const calls = new Map();
  let fragments = 0;
  let finish = null;
  for await (const chunk of stream) {
    for (const choice of chunk.choices) {
      if (choice.finish_reason) finish = choice.finish_reason;
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { id: "", name: "", arguments: "" };
        call.id += delta.id ?? "";
        call.name += delta.function?.name ?? "";
        if (delta.function?.arguments) {
          call.arguments += delta.function.arguments;
          fragments += 1;
        }
        calls.set(delta.index, call);
      }
    }
  }
  assert.equal(finish, "tool_calls");
  assert.equal(calls.size, 1);
  const call = calls.get(0);
  assert.equal(call.name, "get_weather");
  assert.ok(call.id.length > 0);
  assert.ok(fragments >= 3, `arguments in several fragments (${fragments})`);
  assertValid(WEATHER, call.arguments, "streamed arguments");
  assert.deepEqual(JSON.parse(call.arguments), JSON.parse(whole.choices[0].message.tool_calls[0].function.arguments));
  // The SDK's stream helper assembles the same call.
  const runner = openai.chat.completions.stream(request);
  const final = await runner.finalChatCompletion();
  assert.deepEqual(JSON.parse(final.choices[0].message.tool_calls[0].function.arguments), JSON.parse(call.arguments));
});

t("openai: /v1/completions with response_format", async () => {
  for (const seed of [1, 2]) {
    const completion = await openai.completions.create({
      model: "tgi",
      prompt: "A person as JSON:",
      max_tokens: 256,
      seed,
      response_format: { type: "json_schema", json_schema: { name: "person", schema: PERSON } },
    });
    assert.equal(completion.choices[0].finish_reason, "stop", completion.choices[0].text);
    assertValid(PERSON, completion.choices[0].text, `completion seed ${seed}`);
  }
  const regex = await post("/v1/completions", { model: "tgi", prompt: "Call", max_tokens: 32, seed: 1, response_format: { type: "regex", value: PHONE } });
  assert.equal(regex.status, 200, regex.text);
  assert.match(regex.json.choices[0].text, /^\(\d{3}\) \d{3}-\d{4}$/);
  const bad = await post("/v1/completions", { model: "tgi", prompt: "x", max_tokens: 4, response_format: { type: "json", value: { type: "strange" } } });
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.json?.error_type, "validation");
});

// ---- 4. LangChain ------------------------------------------------------------------------------------

const ZOrder = z.object({
  product: z.enum(["apple", "pear", "plum"]),
  quantity: z.number().int().min(1).max(99),
  express: z.boolean(),
  note: z.string().max(8),
});
const lc = new ChatOpenAI({ configuration: { baseURL: `${BASE_URL}/v1` }, apiKey: "unused", model: "tgi", maxTokens: 200, temperature: 0.7, maxRetries: 0 });

t("langchain: withStructuredOutput method jsonSchema", async () => {
  for (const seed of [1, 2]) {
    const structured = lc.withConfig({ seed }).withStructuredOutput(ZOrder, { method: "jsonSchema", name: "order", includeRaw: true });
    const { raw, parsed } = await structured.invoke([new HumanMessage("Order some fruit.")]);
    assert.equal(raw.response_metadata?.finish_reason, "stop", String(raw.content));
    assert.ok(parsed, `parsed from ${raw.content}`);
    assert.deepEqual(ZOrder.parse(parsed), parsed);
  }
});

t("langchain: withStructuredOutput method functionCalling (a forced tool call)", async () => {
  for (const seed of [1, 2]) {
    const structured = lc.withConfig({ seed }).withStructuredOutput(ZOrder, { method: "functionCalling", name: "order", includeRaw: true });
    const { raw, parsed } = await structured.invoke([new HumanMessage("Order some fruit.")]);
    assert.equal(raw.tool_calls?.length, 1, JSON.stringify(raw.additional_kwargs));
    assert.equal(raw.tool_calls[0].name, "order");
    assert.ok(parsed, "parsed");
    assert.deepEqual(ZOrder.parse(parsed), parsed);
    assert.deepEqual(parsed, raw.tool_calls[0].args);
  }
});

t("langchain: withStructuredOutput method jsonMode", async () => {
  // jsonMode sends response_format {"type": "json_object"} and never the schema, so the server
  // guarantees a JSON object, not this schema (LangChain expects the prompt to describe it, which
  // a random-weight model ignores). Asserted: the raw content is always a JSON object, and with a
  // schema every object satisfies, parsed is exactly that object.
  const AnyObject = z.record(z.string(), z.unknown());
  let finished = 0;
  for (const seed of [1, 2, 3, 4]) {
    const structured = lc.withConfig({ seed }).withStructuredOutput(AnyObject, { method: "jsonMode", includeRaw: true });
    const { raw, parsed } = await structured.invoke([new HumanMessage("hi")]);
    if (raw.response_metadata?.finish_reason === "length") {
      assert.match(raw.content, /^\s*\{/, "a prefix of an object");
      continue;
    }
    finished += 1;
    const value = JSON.parse(raw.content);
    assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), raw.content);
    assert.deepEqual(parsed, value);
  }
  assert.ok(finished >= 1, "at least one seed finishes");
  // With the real schema: either it happens to parse, or LangChain reports the parse failure.
  const strict = lc.withConfig({ seed: 3 }).withStructuredOutput(ZOrder, { method: "jsonMode", includeRaw: true });
  const { raw, parsed } = await strict.invoke([new HumanMessage("Order some fruit as JSON.")]);
  if (parsed) assert.deepEqual(ZOrder.parse(parsed), parsed);
  else assert.equal(typeof raw.content, "string");
});

// ---- 5. the AI SDK -----------------------------------------------------------------------------------

const aiStructured = createOpenAICompatible({ name: "tgi", baseURL: `${BASE_URL}/v1`, apiKey: "unused", supportsStructuredOutputs: true })("tgi");

t("ai-sdk: generateObject with a zod schema (structured outputs)", async () => {
  for (const seed of [1, 2]) {
    const { object, finishReason } = await generateObject({ model: aiStructured, schema: ZPerson, schemaName: "person", prompt: "Make up a person.", maxOutputTokens: 256, seed, maxRetries: 0 });
    assert.equal(finishReason, "stop");
    assert.deepEqual(ZPerson.parse(object), object);
  }
});

t("ai-sdk: generateText with toolChoice required gives a valid tool call", async () => {
  const tools = {
    get_weather: tool({ description: "Weather forecast", inputSchema: aiJsonSchema(WEATHER) }),
    set_order: tool({ description: "Place an order", inputSchema: ZOrder }),
  };
  for (const [toolChoice, forced] of [
    ["required", null],
    [{ type: "tool", toolName: "set_order" }, "set_order"],
  ]) {
    const result = await generateText({ model: aiStructured, prompt: "Use a tool.", tools, toolChoice, maxOutputTokens: 160, seed: 2, maxRetries: 0 });
    assert.equal(result.finishReason, "tool-calls", result.text);
    assert.equal(result.toolCalls.length, 1);
    const [call] = result.toolCalls;
    if (forced) assert.equal(call.toolName, forced);
    if (call.toolName === "set_order") assert.deepEqual(ZOrder.parse(call.input), call.input);
    else assertValidValue(WEATHER, call.input, "ai-sdk get_weather input");
  }
});

// ---- 6. @huggingface/inference -----------------------------------------------------------------------

t("hf: textGeneration with parameters.grammar (sent to /v1/completions)", async () => {
  const hf = new InferenceClient().endpoint(BASE_URL);
  for (const seed of [1, 2]) {
    const out = await hf.textGeneration({ model: "tgi", inputs: "A person:", parameters: { max_new_tokens: 256, seed, grammar: { type: "json", value: PERSON } } });
    assertValid(PERSON, out.generated_text, `hf json seed ${seed}`);
  }
  const phone = await hf.textGeneration({ model: "tgi", inputs: "Call", parameters: { max_new_tokens: 32, seed: 3, grammar: { type: "regex", value: PHONE } } });
  assert.match(phone.generated_text, /^\(\d{3}\) \d{3}-\d{4}$/);
  // OpenAI's response_format through the same parameters.
  const viaFormat = await hf.textGeneration({ model: "tgi", inputs: "x", parameters: { max_new_tokens: 64, seed: 4, response_format: { type: "json_schema", json_schema: { name: "flag", schema: FLAG } } } });
  assertValid(FLAG, viaFormat.generated_text, "hf response_format");
  // Both at once is ambiguous: refused.
  await assert.rejects(
    hf.textGeneration({ model: "tgi", inputs: "x", parameters: { max_new_tokens: 4, grammar: { type: "regex", value: "a" }, response_format: { type: "json_object" } } }),
    (error) => {
      assert.equal(error.httpResponse?.status, 422, String(error));
      assert.match(JSON.stringify(error.httpResponse?.body), /mutually exclusive/);
      return true;
    },
  );
});

// ---- a second opinion: python's jsonschema over everything checked above --------------------------

t("every validated output also validates under python jsonschema (Draft 2020-12, formats)", (ctx) => {
  const probe = spawnSync("python3", ["-c", "import jsonschema"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    ctx.skip("python3 with the jsonschema module is not available: the second opinion is skipped (the JS checker ran)");
    return;
  }
  assert.ok(CHECKED.length >= 30, `checked ${CHECKED.length} outputs`);
  const script = [
    "import json, sys, jsonschema",
    "pairs = json.load(sys.stdin)",
    "bad = []",
    "for i, p in enumerate(pairs):",
    "    v = jsonschema.Draft202012Validator(p['schema'], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)",
    "    errors = [e.message for e in v.iter_errors(p['value'])]",
    "    if errors: bad.append({'i': i, 'value': p['value'], 'errors': errors})",
    "print(json.dumps({'count': len(pairs), 'bad': bad}))",
  ].join("\n");
  const run = spawnSync("python3", ["-c", script], { input: JSON.stringify(CHECKED), encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.equal(result.count, CHECKED.length);
  assert.deepEqual(result.bad, []);
});
