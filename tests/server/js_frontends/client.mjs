// The real front-end clients against `rillet serve`: @ag-ui/client (HttpAgent, with
// its event-order verifier) and the Vercel AI SDK (`ai`: its chat transport and
// readUIMessageStream). `node client.mjs SCENARIO URL [ARG]` prints what the client
// saw as one JSON document; tests/server/test_frontends_js.py compares it exactly.
import { writeFileSync } from "node:fs";
import { HttpAgent, buildResumeArray, verifyEvents } from "@ag-ui/client";
import { DefaultChatTransport, readUIMessageStream } from "ai";
import { lastValueFrom, toArray } from "rxjs";

const [scenario, url, arg] = process.argv.slice(2);

// --- AG-UI ---------------------------------------------------------------------------

async function aguiRaw(graph, input) {
  // The raw stream, through the package's verifier (it throws on a bad order).
  const agent = new HttpAgent({ url: `${url}/agui/${graph}` });
  return lastValueFrom(agent.run(input).pipe(verifyEvents(false), toArray()));
}

async function aguiRun(agent, params = {}) {
  const types = [];
  const result = await agent.runAgent(params, {
    onEvent: ({ event }) => { types.push(event.type); },
  });
  return { types, newMessages: result.newMessages.map((m) => m.id) };
}

async function aguiAgent() {
  const input = {
    threadId: "agui-thread", runId: "agui-run-1", state: {}, tools: [], context: [],
    forwardedProps: {}, messages: [{ id: "u1", role: "user", content: "Add 2 and 3." }],
  };
  const events = await aguiRaw("agent", input);
  // The same thread again with HttpAgent.runAgent: it sends the whole history.
  const agent = new HttpAgent({ url: `${url}/agui/agent`, threadId: "agui-thread" });
  const snapshot = events.find((e) => e.type === "MESSAGES_SNAPSHOT");
  agent.messages = [...snapshot.messages, { id: "u2", role: "user", content: "Again." }];
  const second = await aguiRun(agent, { runId: "agui-run-2" });
  return { events, second, messages: agent.messages };
}

async function aguiApprove() {
  const agent = new HttpAgent({ url: `${url}/agui/approve`, threadId: "agui-approve" });
  agent.messages = [{ id: "u1", role: "user", content: "Add 2 and 3." }];
  const first = await aguiRun(agent, { runId: "approve-1" });
  const interrupts = agent.pendingInterrupts;
  const resume = buildResumeArray(interrupts, {
    [interrupts[0].id]: { status: "resolved", payload: "yes" },
  });
  const second = await aguiRun(agent, { runId: "approve-2", resume });
  return { first, interrupts, resume, second, pending: agent.pendingInterrupts,
           messages: agent.messages };
}

// --- Vercel AI SDK -------------------------------------------------------------------

async function read(stream, last) {
  // Every chunk's type (a tee of the stream) and the UI message the SDK assembles.
  const [forMessage, forTypes] = stream.tee();
  const types = [];
  const reading = (async () => {
    for await (const chunk of forTypes) types.push(chunk.type);
  })();
  let message;
  for await (const snapshot of readUIMessageStream({
    message: last && structuredClone(last), stream: forMessage, terminateOnError: true,
  })) {
    message = snapshot;
  }
  await reading;
  return { types, message };
}

function transport(graph) {
  return new DefaultChatTransport({ api: `${url}/vercel/${graph}` });
}

async function send(graph, chatId, messages, body) {
  // As useChat does: the answer continues the last message when it is the assistant's.
  const last = messages[messages.length - 1];
  return read(await transport(graph).sendMessages({
    chatId, messages, trigger: "submit-message", messageId: undefined,
    abortSignal: undefined, body,
  }), last.role === "assistant" ? last : undefined);
}

const user = (id, text) => ({ id, role: "user", parts: [{ type: "text", text }] });

async function vercelAgent() {
  const first = await send("agent", "chat-1", [user("u1", "Add 2 and 3.")]);
  const second = await send("agent", "chat-1",
                            [user("u1", "Add 2 and 3."), first.message, user("u2", "Again.")]);
  const none = await transport("agent").reconnectToStream({ chatId: "chat-1" });
  return { first, second, reconnect: none };
}

async function vercelThinker() {
  return send("thinker", "chat-think", [user("u1", "2 + 2?")]);
}

async function vercelApprove() {
  const asked = user("u1", "Add 2 and 3.");
  const first = await send("approve", "chat-approve", [asked]);
  const second = await send("approve", "chat-approve", [asked, first.message],
                            { resume: "yes" });
  return { first, second };
}

async function vercelReconnect() {
  // The chat's run waits for the gate file `arg`: reconnect, see the replayed
  // tokens, then open the gate and read to the end.
  const stream = await transport("gated").reconnectToStream({ chatId: "chat-gated" });
  const types = [];
  let message;
  let opened = false;
  const [forMessage, forTypes] = stream.tee();
  const reading = (async () => {
    for await (const chunk of forTypes) {
      types.push(chunk.type);
      if (chunk.type === "text-delta" && !opened) {
        opened = true;
        writeFileSync(arg, "go");
      }
    }
  })();
  for await (const snapshot of readUIMessageStream({ stream: forMessage })) message = snapshot;
  await reading;
  return { types, message };
}

const scenarios = {
  "agui-agent": aguiAgent, "agui-approve": aguiApprove, "vercel-agent": vercelAgent,
  "vercel-thinker": vercelThinker, "vercel-approve": vercelApprove,
  "vercel-reconnect": vercelReconnect,
};
process.stdout.write(JSON.stringify(await scenarios[scenario]()) + "\n");
