// Drives a running `camelid serve` with the official npm `openai` package and prints what it saw as JSON.
// Usage: CAMELID_URL=http://127.0.0.1:PORT/v1 CAMELID_MODEL=name node client.mjs
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.CAMELID_URL, apiKey: process.env.CAMELID_KEY ?? "unused", maxRetries: 0 });
const model = process.env.CAMELID_MODEL;
const messages = [{ role: "user", content: "Tell me a short story." }];

const models = await client.models.list();
const chat = await client.chat.completions.create({ model, messages, max_tokens: 20, temperature: 0 });

let streamed = "";
let chunks = 0;
let firstRole = null;
let finish = null;
let usage = null;
const stream = await client.chat.completions.create({
  model, messages, max_tokens: 20, temperature: 0, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  chunks++;
  if (chunk.choices.length > 0) {
    firstRole ??= chunk.choices[0].delta.role ?? null;
    streamed += chunk.choices[0].delta.content ?? "";
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  if (chunk.usage) usage = chunk.usage;
}

const completion = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
const embeddings = await client.embeddings.create({ model, input: ["hello", "world"] });

let error = null;
try {
  await client.chat.completions.create({ model: "no-such-model", messages });
} catch (e) {
  error = { status: e.status, code: e.code, message: e.message };
}

console.log(JSON.stringify({
  models: models.data.map(m => m.id),
  chat: { text: chat.choices[0].message.content, finish: chat.choices[0].finish_reason, usage: chat.usage },
  stream: { text: streamed, chunks, firstRole, finish, usage },
  completion: { text: completion.choices[0].text, finish: completion.choices[0].finish_reason, usage: completion.usage },
  embeddings: embeddings.data.map(d => d.embedding.length),
  error,
}));
