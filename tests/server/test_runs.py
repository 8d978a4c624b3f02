"""Runs: wait, background runs and joins, human in the loop, cancel, bad requests."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from tests.server.conftest import start_server, stop_server

pytestmark = pytest.mark.timeout(60)

HITL_ID = "d2a02ed8-fb92-5e43-81ea-cb78d82caa2f"  # langgraph dev's id for the graph


def test_wait_on_a_thread_and_stateless(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    assert client.runs.wait(thread_id, "chain3", input={"x": 5}) == {"x": 8}
    assert client.runs.wait(None, "chain3", input={"x": 1}) == {"x": 4}
    with httpx.Client(base_url=url) as http:
        response = http.post("/runs/wait", json={"assistant_id": "chain3", "input": {"x": 1}})
    assert response.json() == {"x": 4}
    assert response.headers["location"].endswith("/join")


async def test_background_run_join_get_list(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    run = await client.runs.create(thread_id, "chain3", input={"x": 0})
    assert (run["status"], run["thread_id"], run["multitask_strategy"]) == (
        "pending", thread_id, "enqueue")
    assert run["metadata"] == {"created_by": "system", "graph_id": "chain3",
                               "assistant_id": run["assistant_id"]}
    assert await client.runs.join(thread_id, run["run_id"]) == {"x": 3}
    done = await client.runs.get(thread_id, run["run_id"])
    assert done["status"] == "success"
    second = await client.runs.create(thread_id, "chain3", input={"x": 10})
    assert await client.runs.join(thread_id, second["run_id"]) == {"x": 13}
    listed = await client.runs.list(thread_id)
    assert [r["run_id"] for r in listed] == [second["run_id"], run["run_id"]]
    assert [r["run_id"] for r in await client.runs.list(thread_id, limit=1, offset=1)] == [
        run["run_id"]]


def test_interrupt_and_resume(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    got = [(p.event, p.data) for p in client.runs.stream(
        thread_id, "hitl", input={"question": "ok?"}, stream_mode="values")]
    assert got[1] == ("values", {"question": "ok?"})
    _, data = got[2]
    interrupt_id = data["__interrupt__"][0]["id"]
    assert len(interrupt_id) == 32
    assert got[2:] == [  # as langgraph dev sends it
        ("values", {"question": "ok?", "__interrupt__": [
            {"value": {"question": "ok?"}, "id": interrupt_id, "response_schema": None}]}),
        ("end", None),
    ]
    thread = client.threads.get(thread_id)
    assert thread["status"] == "interrupted"
    assert list(thread["interrupts"].values()) == [
        [{"id": interrupt_id, "value": {"question": "ok?"}}]]
    state = client.threads.get_state(thread_id)
    assert state["next"] == ["ask"]
    assert state["interrupts"] == [{"id": interrupt_id, "value": {"question": "ok?"}}]
    [task] = state["tasks"]
    assert (task["name"], task["interrupts"], task["id"]) == (
        "ask", state["interrupts"], next(iter(thread["interrupts"])))

    resumed = [(p.event, p.data) for p in client.runs.stream(
        thread_id, HITL_ID, command={"resume": "yes"}, stream_mode="updates")]
    assert resumed[1:] == [("updates", {"ask": {"answer": "yes"}}),
                           ("updates", {"after": {"done": True}}), ("end", None)]
    thread = client.threads.get(thread_id)
    assert (thread["status"], thread["interrupts"]) == ("idle", {})
    assert thread["values"] == {"question": "ok?", "answer": "yes", "done": True}


def test_wait_shows_the_interrupt_and_the_error(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    out = client.runs.wait(thread_id, "hitl", input={"question": "again?"})
    assert out["question"] == "again?"
    assert out["__interrupt__"][0]["value"] == {"question": "again?"}
    assert client.runs.wait(thread_id, "hitl", command={"resume": 1}) == {
        "question": "again?", "answer": "1", "done": True}
    with httpx.Client(base_url=url) as http:
        failed = http.post(f"/threads/{thread_id}/runs/wait",
                           json={"assistant_id": "boom", "input": {"x": 0}})
    assert failed.json() == {"__error__": {"error": "ValueError", "message": "no good: 1"}}


async def until_running(client: Any, thread_id: str, run_id: str) -> None:
    """Wait (10 s at most) until the server says the run is running."""
    async with asyncio.timeout(10):
        while (await client.runs.get(thread_id, run_id))["status"] != "running":
            await asyncio.sleep(0.02)


async def test_cancel_a_running_run(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    run = await client.runs.create(thread_id, "slow", input={"x": 0})
    await until_running(client, thread_id, run["run_id"])
    with pytest.raises(ConflictError):
        await client.runs.create(thread_id, "chain3", input={"x": 0},
                                 multitask_strategy="reject")
    await client.runs.cancel(thread_id, run["run_id"], wait=True)
    cancelled = await client.runs.get(thread_id, run["run_id"])
    assert cancelled["status"] == "interrupted"
    thread = await client.threads.get(thread_id)
    assert thread["error"]["error"] == "UserInterrupt"
    assert await client.runs.wait(thread_id, "slow", input={"x": 0, "seconds": 0}) == {
        "x": 1, "seconds": 0}


async def test_interrupt_strategy_cancels_the_run_in_progress(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    first = await client.runs.create(thread_id, "slow", input={"x": 0})
    await until_running(client, thread_id, first["run_id"])
    out = await client.runs.wait(thread_id, "slow", input={"x": 5, "seconds": 0},
                                 multitask_strategy="interrupt")
    assert out == {"x": 6, "seconds": 0}
    assert (await client.runs.get(thread_id, first["run_id"]))["status"] == "interrupted"


async def test_bad_run_requests(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    with pytest.raises(UnprocessableEntityError):
        await client.runs.create(thread_id, "nope", input={})
    with pytest.raises(NotFoundError):
        await client.runs.create("00000000-0000-0000-0000-000000000000", "chain3", input={})
    with pytest.raises(NotFoundError):
        await client.runs.get(thread_id, "00000000-0000-0000-0000-000000000000")
    async with httpx.AsyncClient(base_url=url) as http:
        bad_mode = await http.post(f"/threads/{thread_id}/runs/stream",
                                   json={"assistant_id": "chain3", "stream_mode": ["bogus"]})
        assert bad_mode.status_code == 422
        assert "unknown stream mode 'bogus'" in bad_mode.json()["detail"]
        no_assistant = await http.post(f"/threads/{thread_id}/runs", json={"input": {}})
        assert no_assistant.status_code == 422
        both = await http.post(f"/threads/{thread_id}/runs", json={
            "assistant_id": "chain3", "input": {"x": 1}, "command": {"resume": 1}})
        assert both.status_code == 422
        bad_id = await http.get(f"/threads/{thread_id}/runs/x/stream",
                                headers={"Last-Event-ID": "zz"})
        assert bad_id.status_code == 404
    created = await client.threads.create()
    run = await client.runs.create(created["thread_id"], "chain3", input={"x": 0},
                                   if_not_exists="create")
    assert await client.runs.join(created["thread_id"], run["run_id"]) == {"x": 3}
    fresh = "11111111-2222-4333-8444-555555555555"
    run = await client.runs.create(fresh, "chain3", input={"x": 1}, if_not_exists="create")
    assert await client.runs.join(fresh, run["run_id"]) == {"x": 4}


def test_api_key(tmp_path) -> None:
    running = start_server(tmp_path, "--api-key", "s3cret")
    try:
        assert httpx.get(f"{running.url}/ok").status_code == 200
        assert httpx.get(f"{running.url}/info").status_code == 401
        client = get_sync_client(url=running.url, api_key="s3cret")
        assert client.runs.wait(None, "chain3", input={"x": 0}) == {"x": 3}
    finally:
        stop_server(running)


async def test_integers_beyond_64_bits_stay_exact(url: str) -> None:
    # orjson (the SDK's encoder too) refuses them; a raw client may send them
    big = 2**70
    async with httpx.AsyncClient(base_url=url) as http:
        thread_id = (await http.post("/threads", json={})).json()["thread_id"]
        body = b'{"assistant_id": "chain3", "input": {"x": %d}}' % big
        response = await http.post(f"/threads/{thread_id}/runs/wait", content=body,
                                   headers={"content-type": "application/json"})
        assert response.status_code == 200
        assert response.content == b'{"x":%d}' % (big + 3)
        state = await http.get(f"/threads/{thread_id}/state")
        assert b'"values":{"x":%d}' % (big + 3) in state.content
        thread = await http.get(f"/threads/{thread_id}")
        assert b'"values":{"x":%d}' % (big + 3) in thread.content
        stream = await http.post(f"/threads/{thread_id}/runs/stream", content=body.replace(
            b'"input"', b'"stream_mode": ["values"], "input"'),
            headers={"content-type": "application/json"})
        assert b"data: {\"x\":%d}" % (big + 1) in stream.content
