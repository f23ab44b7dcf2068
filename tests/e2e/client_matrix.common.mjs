// Shared helpers for the client matrix (client_matrix.*.test.mjs, run by client_matrix.test.sh).
// The model has random weights: tests assert shapes and invariants that hold for any output.
import { test } from "node:test";
import assert from "node:assert/strict";

export const BASE_URL = process.env.BASE_URL;
if (!BASE_URL) throw new Error("BASE_URL must point at a running `tgi serve`");

// Every test gets a bound, so a hung stream fails the test instead of the whole run.
export function t(name, fn) {
  return test(name, { timeout: 60_000 }, fn);
}

// Two function tools, in the OpenAI chat shape; the Responses, Anthropic, LangChain and AI SDK
// tests build theirs from the same names and schemas.
export const WEATHER_SCHEMA = {
  type: "object",
  properties: { city: { type: "string", description: "City name" } },
  required: ["city"],
};
export const TIME_SCHEMA = {
  type: "object",
  properties: { timezone: { type: "string", description: "IANA timezone" } },
  required: ["timezone"],
};
export const TOOL_NAMES = ["get_weather", "get_time"];
export const CHAT_TOOLS = [
  { type: "function", function: { name: "get_weather", description: "Current weather in a city", parameters: WEATHER_SCHEMA } },
  { type: "function", function: { name: "get_time", description: "Current time in a timezone", parameters: TIME_SCHEMA } },
];

// postJson(path, body, headers): { status, json, text } for a plain fetch.
export async function postJson(path, body, headers = {}) {
  const response = await fetch(`${BASE_URL}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: callers assert on status first and print text
  }
  return { status: response.status, json, text, headers: response.headers };
}

// assertJsonObjectString(s): s is a string that parses to a JSON object (tool-call arguments).
export function assertJsonObjectString(s, what = "arguments") {
  assert.equal(typeof s, "string", `${what} is a string`);
  let parsed;
  assert.doesNotThrow(() => {
    parsed = JSON.parse(s);
  }, `${what} parses as JSON: ${s}`);
  assert.ok(parsed !== null && typeof parsed === "object" && !Array.isArray(parsed), `${what} is a JSON object: ${s}`);
  return parsed;
}
