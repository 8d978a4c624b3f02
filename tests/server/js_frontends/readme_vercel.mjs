// The Vercel AI SDK (useChat's transport, here without React): npm install ai
import { DefaultChatTransport, readUIMessageStream } from "ai";

const url = process.env.RILLET_URL ?? "http://127.0.0.1:8123";
const transport = new DefaultChatTransport({ api: `${url}/vercel/agent` });
const stream = await transport.sendMessages({
  chatId: "readme-chat", trigger: "submit-message", messageId: undefined,
  messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "Add 2 and 3." }] }],
});
let message;
for await (const snapshot of readUIMessageStream({ stream })) message = snapshot;
for (const part of message.parts) {
  if (part.type === "text") console.log(part.text);
  if (part.type === "tool-add") console.log(part.input, "->", part.output);
}
// Let me add.
// { a: 2, b: 3 } -> 5
// The sum is 5.
