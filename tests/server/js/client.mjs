// The JavaScript client (@langchain/langgraph-sdk) against `rillet serve`.
//   node client.mjs URL SCENARIO
// prints one JSON document on stdout: what the client saw, for
// tests/server/test_js_client.py to compare exactly.
import { Client } from "@langchain/langgraph-sdk";

const [url, scenario] = process.argv.slice(2);
const client = new Client({ apiUrl: url, apiKey: null });

async function collect(stream) {
  const parts = [];
  for await (const { event, data, id } of stream) parts.push({ event, data, id });
  return parts;
}

const scenarios = {
  // one run in every stream mode the brief names, subgraphs included; then its join
  async stream() {
    const thread = await client.threads.create();
    const streamed = await collect(client.runs.stream(thread.thread_id, "mixed", {
      input: { x: 0 },
      streamMode: ["values", "updates", "messages-tuple", "custom"],
      streamSubgraphs: true,
    }));
    const runId = streamed[0].data.run_id;
    const joined = await collect(client.runs.joinStream(thread.thread_id, runId));
    const fromStart = await collect(client.runs.joinStream(thread.thread_id, runId,
      { lastEventId: "-1" }));
    const tail = await collect(client.runs.joinStream(thread.thread_id, runId,
      { lastEventId: "5" }));
    const run = await client.runs.get(thread.thread_id, runId);
    const state = await client.threads.getState(thread.thread_id);
    return { thread_id: thread.thread_id, streamed, joined, from_start: fromStart, tail,
             run_status: run.status, values: state.values, next: state.next };
  },
  // an interrupt, the thread's state while paused, a resume, the state after
  async resume() {
    const thread = await client.threads.create();
    const paused = await collect(client.runs.stream(thread.thread_id, "hitl", {
      input: { question: "ship it?" }, streamMode: "updates",
    }));
    const pausedThread = await client.threads.get(thread.thread_id);
    const pausedState = await client.threads.getState(thread.thread_id);
    const resumed = await collect(client.runs.stream(thread.thread_id, "hitl", {
      command: { resume: "yes" }, streamMode: "values",
    }));
    const after = await client.threads.getState(thread.thread_id);
    const afterThread = await client.threads.get(thread.thread_id);
    return {
      thread_id: thread.thread_id, paused, resumed,
      paused_status: pausedThread.status, paused_interrupts: pausedThread.interrupts,
      paused_next: pausedState.next,
      paused_tasks: pausedState.tasks.map(({ id, name, interrupts }) => ({ id, name, interrupts })),
      after_values: after.values, after_next: after.next, after_status: afterThread.status,
    };
  },
};

const run = scenarios[scenario];
if (!run) {
  console.error(`unknown scenario ${scenario}; one of ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await run()) + "\n");
