"""The front-end endpoints over HTTP (``/agui/{graph}``, ``/vercel/{graph}``): what
they refuse (422 naming the field, 409 for an interrupt the thread does not wait on),
state snapshots and JSON Patch deltas, a failed run, the Vercel resume GET (204, and
a run in progress replayed from its start), and that a front-end run is an ordinary
server run (the LangGraph SDK sees it and its thread)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client

from tests.server.conftest import RunningServer, backend, start_server, stop_server

pytestmark = pytest.mark.timeout(120)

GRAPHS = Path(__file__).parent / "frontend_graphs.py"


@pytest.fixture(scope="module", params=["embedded", "scaled"])
def url(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[str]:
    """A server of the front-end graphs, once of each kind (the data dir; one process on
    PostgreSQL and Redis)."""
    running: RunningServer = start_server(
        tmp_path_factory.mktemp("frontends"), *backend(request), graphs=GRAPHS,
        names=("agent", "approve", "gated", "counter", "failing"))
    yield running.url
    stop_server(running)


def events(response: httpx.Response) -> list[Any]:
    return [json.loads(line[6:]) if line != "data: [DONE]" else "[DONE]"
            for line in response.text.splitlines() if line.startswith("data: ")]


def agui(url: str, graph: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}/agui/{graph}", json=body, timeout=30)


def run_input(thread: str, run: str, messages: list[Any], **more: Any) -> dict[str, Any]:
    return {"threadId": thread, "runId": run, "messages": messages, **more}


@pytest.mark.parametrize(("body", "detail"), [
    ({"runId": "r", "messages": []}, "'threadId' must be the thread id (a string), got None"),
    ({"threadId": "t", "messages": []}, "'runId' must be the run id (a string), got None"),
    ({"threadId": "t", "runId": "r"},
     "'messages' is required: the conversation (a list, may be [])"),
    ({"threadId": "t", "runId": "r", "messages": {}},
     "'messages' must be a list of messages, got {}"),
    (run_input("t", "r", [{"id": "m", "role": "bot", "content": "x"}]),
     "'messages[0].role' must be user, assistant, tool, system, developer, reasoning or "
     "activity, got 'bot'"),
    (run_input("t", "r", [{"role": "user", "content": "x"}]),
     "'messages[0].id' must be a message id (a string), got None"),
    (run_input("t", "r", [{"id": "m", "role": "tool", "content": "x"}]),
     "'messages[0].toolCallId' must be the id of the tool call answered, got None"),
    (run_input("t", "r", [{"id": "m", "role": "assistant", "toolCalls": [
        {"id": "c", "type": "function", "function": {"name": "add", "arguments": "{"}}]}]),
     "'messages[0].toolCalls[0].function.arguments' must be a JSON string, got '{'"),
    (run_input("t", "r", [{"id": "m", "role": "user", "content": [{"type": "binary"}]}]),
     "'messages[0].content[0]' must be a text part ({\"type\": \"text\", \"text\": ...}): "
     "other parts are not supported yet"),
    (run_input("t", "r", [], state=[1]), "'state' must be an object, got [1]"),
    (run_input("t", "r", [], tools={}), "'tools' must be a list, got {}"),
    (run_input("t", "r", [], resume=[{"interruptId": "x", "status": "done"}]),
     "'resume[0].status' must be resolved or cancelled, got 'done'"),
])
def test_agui_refuses_bad_input(url: str, body: dict[str, Any], detail: str) -> None:
    response = agui(url, "agent", **body)
    assert (response.status_code, response.json()) == (422, {"detail": detail})


def test_agui_resume_of_an_interrupt_not_pending(url: str) -> None:
    response = agui(url, "approve", **run_input("no-interrupts", "r", [], resume=[
        {"interruptId": "abc", "status": "resolved", "payload": "yes"}]))
    assert (response.status_code, response.json()) == (409, {"detail": (
        "'resume[0].interruptId': the thread is not waiting on interrupt 'abc' (waiting "
        "on: none)")})


def test_agui_unknown_graph(url: str) -> None:
    response = agui(url, "nope", **run_input("t-nope", "r", []))
    assert (response.status_code, response.json()) == (422, {"detail": (
        "Invalid assistant: 'nope'. Must be either:\n- A valid assistant UUID, or\n- One "
        "of the registered graphs: agent, approve, gated, counter, failing")})


def test_agui_state_snapshot_then_json_patch_deltas(url: str) -> None:
    first = agui(url, "counter", **run_input("count-thread", "r1", [], state={"label": "a"}))
    assert first.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert events(first) == [
        {"type": "RUN_STARTED", "threadId": "count-thread", "runId": "r1"},
        {"type": "STATE_SNAPSHOT", "snapshot": {"label": "a"}},
        {"type": "STEP_STARTED", "stepName": "bump"},
        {"type": "TEXT_MESSAGE_START", "messageId": "bumped", "role": "assistant"},
        {"type": "TEXT_MESSAGE_CONTENT", "messageId": "bumped", "delta": "count 1"},
        {"type": "TEXT_MESSAGE_END", "messageId": "bumped"},
        {"type": "STEP_FINISHED", "stepName": "bump"},
        {"type": "STATE_DELTA", "delta": [{"op": "add", "path": "/count", "value": 1}]},
        {"type": "MESSAGES_SNAPSHOT", "messages": [
            {"id": "bumped", "role": "assistant", "content": "count 1"}]},
        {"type": "RUN_FINISHED", "threadId": "count-thread", "runId": "r1",
         "outcome": {"type": "success"}},
    ]
    # the client sends back the state it has: only what changed is the input
    second = agui(url, "counter", **run_input("count-thread", "r2", [], state={
        "label": "b", "count": 1}))
    got = events(second)
    assert got[1] == {"type": "STATE_SNAPSHOT", "snapshot": {"label": "b", "count": 1}}
    assert got[-3] == {"type": "STATE_DELTA", "delta": [
        {"op": "replace", "path": "/count", "value": 2}]}
    # an ordinary server run: the LangGraph SDK sees its thread and runs
    client = get_sync_client(url=url, api_key=None)
    assert client.threads.get_state("count-thread")["values"]["count"] == 2
    runs = client.runs.list("count-thread")
    assert sorted(r["metadata"]["agui_run_id"] for r in runs) == ["r1", "r2"]
    assert {r["status"] for r in runs} == {"success"}


def test_agui_failed_run(url: str) -> None:
    got = events(agui(url, "failing", **run_input("fail-thread", "r1", [])))
    assert [e["type"] for e in got] == [
        "RUN_STARTED", "STATE_SNAPSHOT", "STEP_STARTED", "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "STEP_FINISHED", "STATE_DELTA",
        "STEP_STARTED", "STEP_FINISHED", "RUN_ERROR"]
    assert got[-1] == {"type": "RUN_ERROR", "message": "no good", "code": "ValueError"}


def vercel(url: str, graph: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}/vercel/{graph}", json=body, timeout=30)


def ui_user(mid: str, text: str) -> dict[str, Any]:
    return {"id": mid, "role": "user", "parts": [{"type": "text", "text": text}]}


@pytest.mark.parametrize(("body", "detail"), [
    ({"messages": []}, "'id' is required: the chat's id (a string)"),
    ({"id": "c", "messages": [], "trigger": "regenerate-message"},
     "'trigger': regenerate-message is not supported yet; send a new message (or fork "
     "the thread from a checkpoint with the API)"),
    ({"id": "c", "messages": [], "trigger": "other"},
     "'trigger' must be submit-message, got 'other'"),
    ({"id": "c"}, "'messages' must be a list of UI messages, got None"),
    ({"id": "c", "messages": [{"id": "m", "role": "tool", "parts": []}]},
     "'messages[0].role' must be user, assistant or system, got 'tool'"),
    ({"id": "c", "messages": [{"id": "m", "role": "user"}]},
     "'messages[0].parts' must be a list of parts, got None"),
    ({"id": "c", "messages": [{"role": "user", "parts": []}]},
     "'messages[0]' must be a UI message with an 'id' (a string)"),
])
def test_vercel_refuses_bad_input(url: str, body: dict[str, Any], detail: str) -> None:
    response = vercel(url, "agent", **body)
    assert (response.status_code, response.json()) == (422, {"detail": detail})


def test_vercel_stream_headers_and_failed_run(url: str) -> None:
    response = vercel(url, "failing", id="vercel-fail", messages=[ui_user("u1", "go")])
    assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    got = events(response)
    assert got[1:] == [
        {"type": "start-step"}, {"type": "text-start", "id": "bumped"},
        {"type": "text-delta", "id": "bumped", "delta": "count 1"},
        {"type": "text-end", "id": "bumped"}, {"type": "finish-step"},
        {"type": "start-step"}, {"type": "finish-step"},
        {"type": "error", "errorText": "no good"},
        {"type": "finish", "finishReason": "error"}, "[DONE]"]
    assert got[0]["type"] == "start"


def test_vercel_resume_get_is_204_without_a_run_in_progress(url: str) -> None:
    assert httpx.get(f"{url}/vercel/agent/never-seen/stream").status_code == 204
    vercel(url, "counter", id="vercel-done", messages=[ui_user("u1", "go")])
    response = httpx.get(f"{url}/vercel/counter/vercel-done/stream")
    assert (response.status_code, response.content) == (204, b"")


def test_vercel_resume_get_replays_a_run_in_progress(url: str, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    body = {"id": "vercel-live", "messages": [ui_user("u1", json.dumps({"gate": str(gate)}))]}
    seen: list[str] = []
    first_token = threading.Event()

    def post() -> None:
        with httpx.stream("POST", f"{url}/vercel/gated", json=body, timeout=60) as response:
            for line in response.iter_lines():
                seen.append(line)
                if '"text-delta"' in line:
                    first_token.set()

    poster = threading.Thread(target=post)
    poster.start()
    assert first_token.wait(30), seen
    replayed: list[Any] = []
    with httpx.stream("GET", f"{url}/vercel/gated/vercel-live/stream", timeout=60) as resumed:
        assert resumed.status_code == 200
        assert resumed.headers["x-vercel-ai-ui-message-stream"] == "v1"
        for line in resumed.iter_lines():
            if not line.startswith("data: "):
                continue
            replayed.append("[DONE]" if line == "data: [DONE]" else json.loads(line[6:]))
            if replayed[-1] == {"type": "text-delta", "id": "wait-1", "delta": "Waiting"}:
                gate.write_text("go")  # the replay reached the live point: let it end
    poster.join(60)
    run_id = replayed[0]["messageId"]
    assert replayed == [
        {"type": "start", "messageId": run_id}, {"type": "start-step"},
        {"type": "text-start", "id": "wait-1"},
        {"type": "text-delta", "id": "wait-1", "delta": "Waiting"},
        {"type": "text-end", "id": "wait-1"}, {"type": "text-start", "id": "wait-2"},
        {"type": "text-delta", "id": "wait-2", "delta": "Done."},
        {"type": "text-end", "id": "wait-2"}, {"type": "finish-step"},
        {"type": "finish", "finishReason": "stop"}, "[DONE]"]
    assert [json.loads(s[6:]) if s != "data: [DONE]" else "[DONE]"
            for s in seen if s.startswith("data: ")] == replayed


def test_front_ends_follow_custom_auth(tmp_path: Path) -> None:
    """With ``auth.path``, another user's thread is hidden from both protocols (a 404,
    before its messages or interrupts are read)."""
    from tests.server.test_auth import AUTH_PY, KEY

    (tmp_path / "auth.py").write_text(AUTH_PY)
    running = start_server(tmp_path, "--api-key", KEY, graphs=GRAPHS,
                           names=("approve", "counter"),
                           config={"auth": {"path": "./auth.py:auth"}})
    try:
        def as_user(token: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {token}", "x-api-key": KEY}

        asked = httpx.post(
            f"{running.url}/agui/approve", headers=as_user("token-a"), timeout=30,
            json=run_input("alice-thread", "r1", [{"id": "u1", "role": "user", "content": "x"}]))
        assert events(asked)[-1]["outcome"]["type"] == "interrupt"
        hidden = {"detail": "Thread with ID alice-thread not found"}
        bob = httpx.post(
            f"{running.url}/agui/approve", headers=as_user("token-b"), timeout=30,
            json=run_input("alice-thread", "r2", [], resume=[
                {"interruptId": "x", "status": "resolved"}]))
        assert (bob.status_code, bob.json()) == (404, hidden)
        chat = httpx.post(f"{running.url}/vercel/approve", headers=as_user("token-b"),
                          json={"id": "alice-thread", "messages": []}, timeout=30)
        assert (chat.status_code, chat.json()) == (404, hidden)
        stream = httpx.get(f"{running.url}/vercel/approve/alice-thread/stream",
                           headers=as_user("token-b"), timeout=30)
        assert (stream.status_code, stream.json()) == (404, hidden)
        assert httpx.post(f"{running.url}/agui/approve", json=run_input("t", "r", []),
                          timeout=30).status_code == 401  # the API key, no user
    finally:
        stop_server(running)
