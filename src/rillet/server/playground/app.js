// rillet playground: plain JS over the server's own LangGraph-compatible API.
// Runs stream as server-sent events read with fetch (so the auth headers go along);
// a stream cut before its `end` event is joined again with Last-Event-ID.

const $ = (id) => document.getElementById(id);
const base = new URL(".", location.href); // API paths are relative: works under a prefix
const STREAM_MODES = ["updates", "messages-tuple", "custom", "tasks"];
const RECONNECTS = 5;

const view = {
  assistants: [],
  assistantId: null,
  threadId: null,
  runId: null,
  forkFrom: null,
  running: false,
  abort: null,
  tasks: new Map(), // namespace -> Map(task id -> node name): what runs now
  interrupted: new Map(), // namespace -> the node whose task stopped at an interrupt
  messages: new Map(), // message id -> its text element
};

// ------------------------------------------------------------------ API

class ApiError extends Error {
  constructor(status, detail) {
    super(`${status}: ${detail}`);
    this.status = status;
    this.detail = detail;
  }
}

function headers(extra = {}) {
  const out = { "content-type": "application/json", ...extra };
  const key = localStorage.getItem("rillet.apiKey");
  const authorization = localStorage.getItem("rillet.authorization");
  if (key) out["x-api-key"] = key;
  if (authorization) out.authorization = authorization;
  return out;
}

async function request(method, path, body, options = {}) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: headers(options.headers),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: options.signal,
  });
  if (!response.ok) {
    let detail = response.statusText;
    try {
      detail = (await response.json()).detail ?? detail;
    } catch {
      // not JSON: keep the status text
    }
    throw new ApiError(response.status, detail);
  }
  return response;
}

async function api(method, path, body) {
  const response = await request(method, path, body);
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

// Server-sent events from a fetch response: {event, data, id} per message.
async function* events(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = { event: "message", data: "", id: null };
      let fields = 0;
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue; // a heartbeat comment
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        fields += 1;
        if (field === "event") message.event = text;
        else if (field === "data") message.data += (message.data ? "\n" : "") + text;
        else if (field === "id") message.id = text;
      }
      if (fields) yield message;
    }
  }
}

// ------------------------------------------------------------------ helpers

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "className") node.className = value;
    else if (name.startsWith("data-")) node.setAttribute(name, value);
    else node[name] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

const compact = (value) => JSON.stringify(value);

function showError(error) {
  const box = $("error");
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  let text = error instanceof ApiError ? error.detail : String(error.message || error);
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    text = `${text}\nThis server needs an API key or a token: set it under Auth.`;
    openSettings(true);
  }
  box.textContent = text;
  box.hidden = false;
}

function setStatus(status) {
  $("status").textContent = status;
  $("status").dataset.status = status;
}

// A namespace as shown: "research:1db3…|inner:9f2…" -> "research › inner".
const namespaceLabel = (ns) => ns.split("|").filter(Boolean).map((p) => p.split(":")[0]).join(" › ");
// The drawing's node id for a node of a namespace (xray ids join names with ":").
const drawnId = (ns, node) => [...ns.split("|").filter(Boolean).map((p) => p.split(":")[0]), node].join(":");

function label(kind, node, ns) {
  return element("span", { className: "label" },
    element("span", { className: "badge" }, kind),
    element("span", { className: "node-name" }, node),
    element("span", { className: "ns", title: ns }, namespaceLabel(ns)));
}

function logEvent(kind, node, ns, data) {
  const item = element("li", { className: "event", "data-kind": kind, "data-node": node, "data-ns": namespaceLabel(ns) },
    label(kind, node, ns), element("code", {}, compact(data)));
  const list = $("events");
  list.append(item);
  list.scrollTop = list.scrollHeight;
}

// ------------------------------------------------------------------ graphs

async function loadAssistants() {
  const found = await api("POST", "assistants/search", { limit: 100, offset: 0 });
  view.assistants = found;
  const select = $("assistant");
  select.replaceChildren(...found.map((a) => element("option", { value: a.assistant_id }, a.name || a.graph_id)));
  const wanted = new URLSearchParams(location.hash.slice(1)).get("graph");
  const chosen = found.find((a) => a.graph_id === wanted || a.assistant_id === wanted) || found[0];
  if (chosen) {
    select.value = chosen.assistant_id;
    await chooseAssistant(chosen.assistant_id);
  }
}

async function chooseAssistant(id) {
  view.assistantId = id;
  await drawGraph();
}

async function drawGraph() {
  if (!view.assistantId) return;
  const xray = $("xray").checked ? "true" : "false";
  const svg = await api("GET", `assistants/${encodeURIComponent(view.assistantId)}/graph.svg?xray=${xray}`);
  // The server escapes every label and uses no scripts or style attributes in it.
  $("drawing").innerHTML = svg;
}

function markNode(ns, node, state) {
  // a node, or the frame of a subgraph node drawn expanded
  const id = drawnId(ns, node);
  const drawn = [...$("drawing").querySelectorAll(".node, .subgraph")]
    .find((g) => g.dataset.node === id || g.dataset.subgraph === id);
  if (!drawn) return;
  drawn.classList.toggle("active", state === "active");
  drawn.classList.toggle("done", state === "done");
}

// ------------------------------------------------------------------ runs

function resetRunView() {
  view.tasks.clear();
  view.interrupted.clear();
  view.messages.clear();
  $("events").replaceChildren();
  $("messages").replaceChildren();
  $("interrupt").hidden = true;
  for (const node of $("drawing").querySelectorAll(".node, .subgraph")) node.classList.remove("active", "done");
}

// What the node that sent a custom event is: the one task running in its namespace.
function runningNode(ns) {
  const running = [...(view.tasks.get(ns) || new Map()).values()];
  return running.length === 1 ? running[0] : running.join(", ") || "?";
}

function onTask(ns, data) {
  if (!view.tasks.has(ns)) view.tasks.set(ns, new Map());
  const running = view.tasks.get(ns);
  if ("input" in data) {
    running.set(data.id, data.name);
    markNode(ns, data.name, "active");
  } else {
    running.delete(data.id);
    if ((data.interrupts || []).length) view.interrupted.set(ns, data.name);
    markNode(ns, data.name, "done");
    if (data.error) logEvent("error", data.name, ns, data.error);
  }
}

function onToken(ns, [chunk, metadata]) {
  const node = metadata?.langgraph_node ?? "?";
  let text = chunk.content;
  if (Array.isArray(text)) text = text.map((part) => (typeof part === "string" ? part : part.text || "")).join("");
  const key = chunk.id || `${ns}/${node}`;
  let target = view.messages.get(key);
  if (!target) {
    target = element("p", { className: "text" });
    const box = element("div", { className: "message", "data-node": node, "data-ns": namespaceLabel(ns) },
      label("tokens", node, ns), target);
    $("messages").append(box);
    view.messages.set(key, target);
  }
  target.textContent += text || "";
}

function onEvent(message) {
  const [mode, ...rest] = message.event.split("|");
  const ns = rest.join("|");
  const data = message.data ? JSON.parse(message.data) : null;
  if (mode === "metadata") {
    view.runId = data.run_id;
    $("cancel").disabled = false;
  } else if (mode === "tasks") {
    onTask(ns, data);
  } else if (mode === "messages") {
    onToken(ns, data);
  } else if (mode === "updates") {
    for (const [node, update] of Object.entries(data || {})) {
      if (node === "__interrupt__") {
        logEvent("interrupt", view.interrupted.get(ns) || runningNode(ns), ns, update.map((i) => i.value));
      }
      else logEvent("update", node, ns, update);
    }
  } else if (mode === "custom") {
    logEvent("custom", runningNode(ns), ns, data);
  } else if (mode === "error") {
    logEvent("error", "run", ns, data);
  }
}

async function follow(response) {
  let lastId = null;
  for (let attempt = 0; ; attempt += 1) {
    try {
      for await (const message of events(response)) {
        if (message.id !== null) lastId = message.id;
        if (message.event === "end") return;
        onEvent(message);
      }
    } catch (error) {
      if (error.name === "AbortError" || error instanceof SyntaxError) throw error;
    }
    // The stream stopped before its end: join the run again after the last event seen.
    if (!view.runId || attempt >= RECONNECTS) throw new Error("the run's stream broke off");
    const extra = lastId === null ? {} : { "Last-Event-ID": lastId };
    response = await request("GET", `threads/${view.threadId}/runs/${view.runId}/stream`, undefined,
      { headers: extra, signal: view.abort.signal });
  }
}

async function ensureThread() {
  if (view.threadId) return view.threadId;
  const thread = await api("POST", "threads", {});
  setThread(thread.thread_id);
  return view.threadId;
}

function setThread(id) {
  view.threadId = id;
  $("thread-id").textContent = id || "new";
  const params = new URLSearchParams(location.hash.slice(1));
  if (id) params.set("thread", id);
  else params.delete("thread");
  const graph = view.assistants.find((a) => a.assistant_id === view.assistantId);
  if (graph) params.set("graph", graph.graph_id);
  history.replaceState(null, "", `#${params}`);
}

function readJson(id, what, empty) {
  const text = $(id).value.trim();
  if (!text) return empty;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not JSON: ${error.message}`);
  }
}

async function startRun(extra) {
  if (view.running || !view.assistantId) return;
  showError(null);
  view.running = true;
  $("run").disabled = true;
  $("resume-run").disabled = true;
  try {
    const thread = await ensureThread();
    const body = {
      assistant_id: view.assistantId, stream_mode: STREAM_MODES, stream_subgraphs: true,
      on_disconnect: "continue", ...extra,
    };
    resetRunView();
    setStatus("running");
    view.runId = null;
    view.abort = new AbortController();
    const response = await request("POST", `threads/${thread}/runs/stream`, body, { signal: view.abort.signal });
    await follow(response);
    const run = await api("GET", `threads/${thread}/runs/${view.runId}`);
    // a run that stopped at interrupt() is a "success" for the server; the thread waits
    const waiting = await refreshThread();
    setStatus(waiting ? "interrupted" : run.status);
  } catch (error) {
    if (error.name !== "AbortError") {
      setStatus("error");
      showError(error);
    }
    await refreshThread();
  } finally {
    view.running = false;
    $("run").disabled = false;
    $("resume-run").disabled = false;
    $("cancel").disabled = true;
  }
}

async function run() {
  let input;
  try {
    input = readJson("input", "The input", null);
  } catch (error) {
    showError(error);
    return;
  }
  const extra = { input };
  if (view.forkFrom) extra.checkpoint_id = view.forkFrom;
  setFork(null);
  await startRun(extra);
}

async function resume() {
  let value;
  try {
    value = readJson("resume", "The resume value", null);
  } catch (error) {
    showError(error);
    return;
  }
  await startRun({ command: { resume: value } });
}

async function cancel() {
  if (!view.runId) return;
  try {
    await api("POST", `threads/${view.threadId}/runs/${view.runId}/cancel?wait=false`);
  } catch (error) {
    showError(error);
  }
}

// ------------------------------------------------------------------ thread

// Show the thread's state and history; whether it waits on an interrupt.
async function refreshThread() {
  if (!view.threadId) {
    $("state").textContent = "No thread yet.";
    $("history").replaceChildren();
    $("interrupt").hidden = true;
    return false;
  }
  try {
    const [state, past] = await Promise.all([
      api("GET", `threads/${view.threadId}/state`),
      api("POST", `threads/${view.threadId}/history`, { limit: 50 }),
    ]);
    showHistory(past);
    return showState(state);
  } catch (error) {
    showError(error);
    return false;
  }
}

function showState(state) {
  $("state").textContent = JSON.stringify({ values: state.values, next: state.next }, null, 2);
  const waiting = (state.tasks || []).find((task) => (task.interrupts || []).length);
  if (waiting) {
    $("interrupt-node").textContent = waiting.name;
    $("interrupt-value").textContent = JSON.stringify(waiting.interrupts.map((i) => i.value).length === 1
      ? waiting.interrupts[0].value : waiting.interrupts.map((i) => i.value), null, 2);
    $("interrupt").hidden = false;
    return true;
  }
  $("interrupt").hidden = true;
  return false;
}

function showHistory(states) {
  $("history").replaceChildren(...states.map((state) => {
    const id = state.checkpoint.checkpoint_id;
    const step = state.metadata?.step;
    const fork = element("button", { type: "button", className: "fork" }, "Fork");
    fork.addEventListener("click", () => setFork(id));
    return element("li", { className: "checkpoint", "data-step": String(step), "data-checkpoint": id },
      element("div", { className: "head" },
        element("span", { className: "step" }, `step ${step}`),
        element("span", { className: "next" }, state.next.length ? `next: ${state.next.join(", ")}` : "done"),
        fork),
      element("code", { className: "values" }, compact(state.values)));
  }));
}

function setFork(checkpointId) {
  view.forkFrom = checkpointId;
  $("fork-note").hidden = !checkpointId;
  $("fork-checkpoint").textContent = checkpointId || "";
  if (checkpointId) {
    $("input").value = "null";
    $("run").textContent = "Run from checkpoint";
    $("run").focus();
  } else {
    $("run").textContent = "Run";
  }
}

// ------------------------------------------------------------------ settings

function openSettings(open) {
  $("settings").hidden = !open;
  $("settings-toggle").setAttribute("aria-expanded", String(open));
  if (open) {
    $("api-key").value = localStorage.getItem("rillet.apiKey") || "";
    $("authorization").value = localStorage.getItem("rillet.authorization") || "";
  }
}

function saveSettings() {
  for (const [key, id] of [["rillet.apiKey", "api-key"], ["rillet.authorization", "authorization"]]) {
    const value = $(id).value.trim();
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  }
  openSettings(false);
  showError(null);
  start();
}

// ------------------------------------------------------------------ start

async function start() {
  try {
    await loadAssistants();
    const thread = new URLSearchParams(location.hash.slice(1)).get("thread");
    if (thread) {
      setThread(thread);
      if (await refreshThread()) setStatus("interrupted");
    }
  } catch (error) {
    showError(error);
  }
}

$("assistant").addEventListener("change", async (event) => {
  setThread(null);
  setFork(null);
  resetRunView();
  setStatus("idle");
  await refreshThread();
  try {
    await chooseAssistant(event.target.value);
  } catch (error) {
    showError(error);
  }
});
$("xray").addEventListener("change", () => drawGraph().catch(showError));
$("run").addEventListener("click", run);
$("resume-run").addEventListener("click", resume);
$("cancel").addEventListener("click", cancel);
$("new-thread").addEventListener("click", async () => {
  setThread(null);
  setFork(null);
  resetRunView();
  setStatus("idle");
  await refreshThread();
});
$("fork-cancel").addEventListener("click", () => {
  setFork(null);
  $("input").value = "{}";
});
$("refresh").addEventListener("click", refreshThread);
$("settings-toggle").addEventListener("click", () => openSettings($("settings").hidden));
$("settings-save").addEventListener("click", saveSettings);
start();
