"""The JavaScript client, ``@langchain/langgraph-sdk`` from npm under Node.js, against
``rillet serve``: a stream in several modes with subgraphs, joins of the finished run,
an interrupt and its resume, the thread's state after.

``tests/server/js/`` is a small Node project (the SDK pinned, ``package-lock.json``
committed); ``client.mjs SCENARIO`` prints what the client saw as one JSON document,
compared here exactly, with run, thread, task and message ids put in by name. The
packages are installed with ``npm ci`` when missing (``scripts/test.sh`` installs
Node.js and npm); without ``node`` and ``npm`` these tests fail, they never skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(600)

JS = Path(__file__).parent / "js"
SDK_VERSION = json.loads((JS / "package.json").read_text())["dependencies"][
    "@langchain/langgraph-sdk"]


@pytest.fixture(scope="module")
def node() -> str:
    """The ``node`` binary, with ``tests/server/js/node_modules`` installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, ("node and npm are needed (apt-get install nodejs npm; "
                          "scripts/test.sh installs them)")
    installed = JS / "node_modules" / "@langchain" / "langgraph-sdk" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != SDK_VERSION:
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS,
                              capture_output=True, text=True, timeout=400)
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return node


def run_js(node: str, url: str, scenario: str) -> dict[str, Any]:
    done = subprocess.run([node, "client.mjs", url, scenario], cwd=JS,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"node client.mjs {scenario}:\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def named(value: Any, names: dict[str, str]) -> Any:
    """``value`` with each string in ``names`` replaced by its name, wherever it is."""
    text = json.dumps(value)
    for real, name in names.items():
        text = text.replace(real, name)
    return json.loads(text)


def chunk(content: str) -> dict[str, Any]:
    return {"type": "AIMessageChunk", "content": content, "additional_kwargs": {},
            "response_metadata": {}, "name": None, "id": "<message id>", "tool_calls": [],
            "invalid_tool_calls": [], "usage_metadata": None, "tool_call_chunks": [],
            "chunk_position": None}


def test_js_stream_in_every_mode_with_subgraphs_then_join(node: str, url: str) -> None:
    got = run_js(node, url, "stream")
    streamed = got["streamed"]
    sub = streamed[2]["event"].split("|", 1)[1]  # "sub:<task id>"
    message_id = streamed[4]["data"][0]["id"]
    names = {got["thread_id"]: "<thread>", streamed[0]["data"]["run_id"]: "<run>",
             sub: "sub:<task>", message_id: "<message id>", url: "<url>"}
    work_ns = named(streamed[4]["data"][1]["langgraph_checkpoint_ns"], names)
    assert work_ns.startswith("sub:<task>|work:")
    names[work_ns.split("|", 1)[1]] = "work:<task>"
    metadata = {
        "created_by": "system", "graph_id": "mixed",
        "assistant_id": "6e3c90c0-dc1e-5d52-9bcf-004e0f963dc7", "run_attempt": 1,
        "langgraph_version": "1.2.22", "langgraph_host": "self-hosted",
        "langgraph_api_url": "<url>", "run_id": "<run>", "thread_id": "<thread>",
        "ls_integration": "langchain_chat_model", "langgraph_step": 1,
        "langgraph_node": "work", "langgraph_triggers": ["branch:to:work"],
        "langgraph_path": ["__pregel_pull", "work"],
        "langgraph_checkpoint_ns": "sub:<task>|work:<task>",
        "checkpoint_ns": "sub:<task>",  # the subgraph's namespace, as langgraph dev's
        "ls_provider": "fake", "ls_model_name": "fake-chat-model", "ls_model_type": "chat",
    }
    expected = [
        ("metadata", {"run_id": "<run>", "attempt": 1}),
        ("values", {"x": 0}),
        ("values|sub:<task>", {"x": 0}),
        ("custom|sub:<task>", {"at": 0}),
        ("messages|sub:<task>", [chunk("two"), metadata]),
        ("messages|sub:<task>", [chunk(" words"), metadata]),
        ("updates|sub:<task>", {"work": {"x": 2}}),
        ("values|sub:<task>", {"x": 2}),
        ("updates", {"sub": {"x": 2}}),
        ("values", {"x": 2}),
        ("updates", {"last": {"x": 3}}),
        ("values", {"x": 3}),
        ("end", None),
    ]
    assert named(streamed, names) == [
        {"event": event, "data": data, "id": str(i)} for i, (event, data) in enumerate(expected)
    ]
    # a join of the finished run: every event again, in order, with the same ids
    assert got["joined"] == streamed
    assert got["from_start"] == streamed  # Last-Event-ID: -1
    assert got["tail"] == streamed[6:]  # Last-Event-ID: 5
    assert (got["run_status"], got["values"], got["next"]) == ("success", {"x": 3}, [])


def test_js_interrupt_then_resume(node: str, url: str) -> None:
    got = run_js(node, url, "resume")
    paused, resumed = got["paused"], got["resumed"]
    (task,) = got["paused_tasks"]
    (interrupt,) = task["interrupts"]
    names = {got["thread_id"]: "<thread>", paused[0]["data"]["run_id"]: "<run 1>",
             resumed[0]["data"]["run_id"]: "<run 2>", task["id"]: "<task>",
             interrupt["id"]: "<interrupt>"}
    got = named(got, names)
    question = {"question": "ship it?"}
    assert got["paused"] == [
        {"event": "metadata", "data": {"run_id": "<run 1>", "attempt": 1}, "id": "0"},
        {"event": "updates", "data": {"__interrupt__": [
            {"value": question, "id": "<interrupt>", "response_schema": None}]}, "id": "1"},
        {"event": "end", "data": None, "id": "2"},
    ]
    pending = [{"id": "<interrupt>", "value": question}]
    assert (got["paused_status"], got["paused_interrupts"], got["paused_next"],
            got["paused_tasks"]) == (
        "interrupted", {"<task>": pending}, ["ask"],
        [{"id": "<task>", "name": "ask", "interrupts": pending}])
    done = {**question, "answer": "yes", "done": True}
    assert got["resumed"] == [
        {"event": "metadata", "data": {"run_id": "<run 2>", "attempt": 1}, "id": "0"},
        {"event": "values", "data": question, "id": "1"},
        {"event": "values", "data": {**question, "answer": "yes"}, "id": "2"},
        {"event": "values", "data": done, "id": "3"},
        {"event": "end", "data": None, "id": "4"},
    ]
    assert (got["after_values"], got["after_next"], got["after_status"]) == (done, [], "idle")
