"""The real front-end clients from npm under Node.js against ``rillet serve``:
``@ag-ui/client`` (``HttpAgent``; the raw stream through its ``verifyEvents``, which
fails on a bad event order) on ``/agui/{graph}``, and the Vercel AI SDK ``ai`` (its
``DefaultChatTransport`` and ``readUIMessageStream``, which assemble the UI message)
on ``/vercel/{graph}``: a tool-calling agent, reasoning, an interrupt and its resume,
a reconnect to a run in progress.

``tests/server/js_frontends/`` is a small Node project (packages pinned,
``package-lock.json`` committed; ``scripts/test.sh`` runs ``npm ci`` there);
``client.mjs SCENARIO URL`` prints what the client saw as one JSON document, compared
here exactly with generated ids (uuids, interrupt ids) put in by name.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import RunningServer, backend, start_server, stop_server

pytestmark = pytest.mark.timeout(600)

HERE = Path(__file__).parent
JS = HERE / "js_frontends"
GRAPHS = HERE / "frontend_graphs.py"
_GENERATED = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                        r"|\b[0-9a-f]{32}\b")


@pytest.fixture(scope="module")
def node() -> str:
    """The ``node`` binary, with ``tests/server/js_frontends/node_modules`` installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, ("node and npm are needed (apt-get install nodejs npm; "
                          "scripts/test.sh installs them)")
    wanted = json.loads((JS / "package.json").read_text())["dependencies"]
    installed = JS / "node_modules" / "ai" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != wanted["ai"]:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS,
                              capture_output=True, text=True, timeout=400)
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return node


@pytest.fixture(scope="module", params=["embedded", "scaled"])
def served(tmp_path_factory: pytest.TempPathFactory,
           request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("frontends"), *backend(request),
                           graphs=GRAPHS,
                           names=("agent", "approve", "thinker", "gated"))
    yield running
    stop_server(running)


def run_js(node: str, url: str, scenario: str, *args: str) -> Any:
    done = subprocess.run([node, "client.mjs", scenario, url, *args], cwd=JS,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"node client.mjs {scenario}:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


def named(value: Any) -> Any:
    """``value`` with each generated id (a uuid, an interrupt id) named ``<id1>``,
    ``<id2>``... by first appearance."""
    names: dict[str, str] = {}

    def name(match: re.Match[str]) -> str:
        return names.setdefault(match.group(0), f"<id{len(names) + 1}>")

    return json.loads(_GENERATED.sub(name, json.dumps(value)))


def _text(message_id: str, *words: str) -> list[dict[str, Any]]:
    return [{"type": "TEXT_MESSAGE_START", "messageId": message_id, "role": "assistant"},
            *({"type": "TEXT_MESSAGE_CONTENT", "messageId": message_id, "delta": w}
              for w in words),
            {"type": "TEXT_MESSAGE_END", "messageId": message_id}]


def _call(call_id: str, message_id: str) -> list[dict[str, Any]]:
    return [{"type": "TOOL_CALL_START", "toolCallId": call_id, "toolCallName": "add",
             "parentMessageId": message_id},
            *({"type": "TOOL_CALL_ARGS", "toolCallId": call_id, "delta": d}
              for d in ('{"a":', " 2,", ' "b":', " 3}")),
            {"type": "TOOL_CALL_END", "toolCallId": call_id}]


def _step(name: str, *inside: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "STEP_STARTED", "stepName": name}, *inside,
            {"type": "STEP_FINISHED", "stepName": name}]


def _history(n: int, tool_id: str) -> list[dict[str, Any]]:
    """AG-UI messages of one agent turn whose user message is the ``n``-th message."""
    return [
        {"id": f"call-{n}", "role": "assistant", "content": "Let me add.", "toolCalls": [
            {"id": f"tc-{n}", "type": "function",
             "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}}]},
        {"id": tool_id, "role": "tool", "content": "5", "toolCallId": f"tc-{n}"},
        {"id": f"answer-{n + 2}", "role": "assistant", "content": "The sum is 5."},
    ]


PROGRESS = {"type": "progress", "note": "adding 2 and 3"}


def test_agui_tool_calling_agent(node: str, served: RunningServer) -> None:
    got = named(run_js(node, served.url, "agui-agent"))
    user = {"id": "u1", "role": "user", "content": "Add 2 and 3."}
    assert got["events"] == [
        {"type": "RUN_STARTED", "threadId": "agui-thread", "runId": "agui-run-1"},
        {"type": "STATE_SNAPSHOT", "snapshot": {}},
        *_step("model", *_text("call-1", "Let", " me", " add."), *_call("tc-1", "call-1")),
        *_step("tools", {"type": "CUSTOM", "name": "progress", "value": PROGRESS},
               {"type": "TOOL_CALL_RESULT", "messageId": "<id1>", "toolCallId": "tc-1",
                "content": "5", "role": "tool"}),
        *_step("model", *_text("answer-3", "The", " sum", " is", " 5.")),
        {"type": "MESSAGES_SNAPSHOT", "messages": [user, *_history(1, "<id1>")]},
        {"type": "RUN_FINISHED", "threadId": "agui-thread", "runId": "agui-run-1",
         "outcome": {"type": "success"}},
    ]
    # HttpAgent.runAgent on the same thread sends the whole history: only the new
    # user message is the run's input, so nothing is doubled
    assert got["second"]["types"] == [e["type"] for e in got["events"]]
    assert got["second"]["newMessages"] == ["call-5", "<id2>", "answer-7"]
    assert got["messages"] == [user, *_history(1, "<id1>"),
                               {"id": "u2", "role": "user", "content": "Again."},
                               *_history(5, "<id2>")]


def test_agui_interrupt_then_resume(node: str, served: RunningServer) -> None:
    got = named(run_js(node, served.url, "agui-approve"))
    interrupt = {"id": "<id1>", "reason": "interrupt",
                 "metadata": {"value": {"question": "Run add?", "args": {"a": 2, "b": 3}}}}
    assert got["first"] == {"types": [
        "RUN_STARTED", "STATE_SNAPSHOT", "STEP_STARTED", "TEXT_MESSAGE_START",
        *["TEXT_MESSAGE_CONTENT"] * 3, "TEXT_MESSAGE_END", "TOOL_CALL_START",
        *["TOOL_CALL_ARGS"] * 4, "TOOL_CALL_END", "STEP_FINISHED", "STEP_STARTED",
        "STEP_FINISHED", "MESSAGES_SNAPSHOT", "CUSTOM", "RUN_FINISHED"],
        "newMessages": ["call-1"]}
    assert got["interrupts"] == [interrupt]  # HttpAgent.pendingInterrupts
    assert got["resume"] == [{"interruptId": "<id1>", "status": "resolved", "payload": "yes"}]
    assert got["second"] == {"types": [
        "RUN_STARTED", "STATE_SNAPSHOT", "STEP_STARTED", "STEP_FINISHED", "STEP_STARTED",
        "CUSTOM", "TOOL_CALL_RESULT", "STEP_FINISHED", "STEP_STARTED", "TEXT_MESSAGE_START",
        *["TEXT_MESSAGE_CONTENT"] * 4, "TEXT_MESSAGE_END", "STEP_FINISHED",
        "MESSAGES_SNAPSHOT", "RUN_FINISHED"], "newMessages": ["<id2>", "answer-3"]}
    assert got["pending"] == []
    assert got["messages"] == [{"id": "u1", "role": "user", "content": "Add 2 and 3."},
                               *_history(1, "<id2>")]


VERCEL_TURN = ["start", "start-step", "text-start", *["text-delta"] * 3, "text-end",
               "tool-input-start", *["tool-input-delta"] * 4, "tool-input-available",
               "finish-step", "start-step", "data-progress", "tool-output-available",
               "finish-step", "start-step", "text-start", *["text-delta"] * 4, "text-end",
               "finish-step", "finish"]


def _answer(message_id: str, call_id: str) -> dict[str, Any]:
    return {"id": message_id, "role": "assistant", "parts": [
        {"type": "step-start"}, {"type": "text", "text": "Let me add.", "state": "done"},
        {"type": "tool-add", "toolCallId": call_id, "state": "output-available",
         "input": {"a": 2, "b": 3}, "output": "5"},
        {"type": "step-start"}, {"type": "data-progress", "data": PROGRESS},
        {"type": "step-start"}, {"type": "text", "text": "The sum is 5.", "state": "done"}]}


def test_vercel_tool_calling_agent(node: str, served: RunningServer) -> None:
    got = named(run_js(node, served.url, "vercel-agent"))
    assert got["first"] == {"types": VERCEL_TURN, "message": _answer("<id1>", "tc-1")}
    # the whole chat sent again: only its new last message is the input
    assert got["second"] == {"types": VERCEL_TURN, "message": _answer("<id2>", "tc-5")}
    assert got["reconnect"] is None  # nothing in progress: 204


def test_vercel_reasoning(node: str, served: RunningServer) -> None:
    got = named(run_js(node, served.url, "vercel-thinker"))
    assert got == {"types": ["start", "start-step", "reasoning-start", "reasoning-delta",
                             "reasoning-delta", "reasoning-end", "text-start",
                             *["text-delta"] * 3, "text-end", "finish-step", "finish"],
                   "message": {"id": "<id1>", "role": "assistant", "parts": [
                       {"type": "step-start"},
                       {"type": "reasoning", "id": "think-1-reasoning", "text": "Two plus two.",
                        "state": "done"},
                       {"type": "text", "text": "It is 4.", "state": "done"}]}}


def test_vercel_interrupt_then_resume(node: str, served: RunningServer) -> None:
    got = named(run_js(node, served.url, "vercel-approve"))
    interrupt = {"type": "data-interrupt", "id": "<id2>", "data": {
        "id": "<id2>", "value": {"question": "Run add?", "args": {"a": 2, "b": 3}}}}
    asked = [{"type": "step-start"}, {"type": "text", "text": "Let me add.", "state": "done"},
             {"type": "tool-add", "toolCallId": "tc-1", "state": "input-available",
              "input": {"a": 2, "b": 3}},
             {"type": "step-start"}, interrupt]
    assert got["first"] == {"types": [
        *VERCEL_TURN[:13], "finish-step", "start-step", "finish-step", "data-interrupt",
        "finish"],
        "message": {"id": "<id1>", "role": "assistant", "parts": asked}}
    # the resumed run's answer goes on in the same UI message
    resumed = [*asked[:2], {**asked[2], "state": "output-available", "output": "5"},
               *asked[3:], {"type": "step-start"}, {"type": "step-start"},
               {"type": "data-progress", "data": PROGRESS}, {"type": "step-start"},
               {"type": "text", "text": "The sum is 5.", "state": "done"}]
    assert got["second"] == {"types": [
        "start", "start-step", "finish-step", "start-step", "data-progress",
        "tool-output-available", "finish-step", *VERCEL_TURN[18:]],
        "message": {"id": "<id1>", "role": "assistant", "parts": resumed}}


def test_vercel_reconnect_to_a_run_in_progress(node: str, served: RunningServer,
                                               tmp_path: Path) -> None:
    """The chat transport's ``reconnectToStream`` replays the run from its start; the
    client itself opens the gate the run waits on once it has seen the first token."""
    gate = tmp_path / "gate"
    body = {"id": "chat-gated", "trigger": "submit-message", "messages": [
        {"id": "u1", "role": "user", "parts": [
            {"type": "text", "text": json.dumps({"gate": str(gate)})}]}]}
    first: list[str] = []
    streaming = threading.Event()

    def post() -> None:
        with httpx.stream("POST", f"{served.url}/vercel/gated", json=body,
                          timeout=60) as response:
            for line in response.iter_lines():
                first.append(line)
                if '"text-delta"' in line:
                    streaming.set()

    poster = threading.Thread(target=post)
    poster.start()
    assert streaming.wait(30), first
    got = named(run_js(node, served.url, "vercel-reconnect", str(gate)))
    poster.join(60)
    assert got == {"types": ["start", "start-step", "text-start", "text-delta", "text-end",
                             "text-start", "text-delta", "text-end", "finish-step", "finish"],
                   "message": {"id": "<id1>", "role": "assistant", "parts": [
                       {"type": "step-start"}, {"type": "text", "text": "Waiting",
                                                "state": "done"},
                       {"type": "text", "text": "Done.", "state": "done"}]}}
    data = [line.removeprefix("data: ") for line in first if line.startswith("data: ")]
    # the POST's own stream saw the same run, then the end marker
    assert data[-1] == "[DONE]"
    assert [json.loads(item)["type"] for item in data[:-1]] == got["types"]


README = (HERE.parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", ["readme_agui.mjs", "readme_vercel.mjs"])
def test_readme_front_end_snippet_runs(node: str, served: RunningServer, name: str) -> None:
    """The README's "Front ends" snippets are these files, word for word; each prints
    what its closing comment says."""
    code = (JS / name).read_text()
    assert f"```js\n{code}```" in README, f"README.md must hold {name} as a js block"
    done = subprocess.run([node, name], cwd=JS, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "RILLET_URL": served.url})
    assert done.returncode == 0, done.stderr
    expected = [line.removeprefix("// ") for line in code.splitlines()
                if line.startswith("// ")][1:]  # the first comment says what to install
    assert done.stdout.splitlines() == expected
