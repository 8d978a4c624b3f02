"""Streamed runs: every event, in order, each logged before it is sent (so a join of
the run's stream gives every event again, with the same ids)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client

pytestmark = pytest.mark.timeout(60)


def parts(stream: Any) -> list[tuple[str, Any]]:
    return [(part.event, part.data) for part in stream]


async def aparts(stream: Any) -> list[tuple[str, Any]]:
    return [(part.event, part.data) async for part in stream]


def test_values_and_updates(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    got = list(client.runs.stream(thread_id, "chain3", input={"x": 0},
                                  stream_mode=["values", "updates"]))
    assert got[0].event == "metadata"
    run_id = got[0].data["run_id"]
    assert got[0].data == {"run_id": run_id, "attempt": 1}
    # langgraph dev sends the same events (it sends no "end")
    assert [(p.event, p.data) for p in got[1:]] == [
        ("values", {"x": 0}),
        ("updates", {"a": {"x": 1}}), ("values", {"x": 1}),
        ("updates", {"b": {"x": 2}}), ("values", {"x": 2}),
        ("updates", {"c": {"x": 3}}), ("values", {"x": 3}),
        ("end", None),
    ]
    assert [p.id for p in got] == [str(i) for i in range(len(got))]
    run = client.runs.get(thread_id, run_id)
    assert run["status"] == "success"
    assert run["assistant_id"] == "b1376d66-f966-548c-85a8-2dc0cc1354f6"
    assert run["kwargs"]["stream_mode"] == ["values", "updates"]


async def test_custom(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    got = await aparts(client.runs.stream(thread_id, "custom", input={"n": 3},
                                          stream_mode="custom"))
    assert got[1:] == [("custom", {"i": 0}), ("custom", {"i": 1}), ("custom", {"i": 2}),
                       ("end", None)]


async def test_messages_tuple(url: str) -> None:
    client = get_client(url=url, api_key=None)
    got = await aparts(client.runs.stream(None, "tokens", input={"n": 3},
                                          stream_mode="messages-tuple"))
    messages = [data for event, data in got if event == "messages"]
    assert [chunk["content"] for chunk, _ in messages] == ["alpha", " beta", " gamma"]
    assert {chunk["type"] for chunk, _ in messages} == {"AIMessageChunk"}
    assert len({chunk["id"] for chunk, _ in messages}) == 1
    metadata = messages[0][1]
    assert (metadata["langgraph_node"], metadata["langgraph_step"]) == ("call_model", 1)


def test_subgraph_events_are_named_with_their_namespace(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    got = parts(client.runs.stream(thread_id, "nested", input={"x": 0},
                                   stream_mode="updates", stream_subgraphs=True))
    names = [event.split("|")[0] + ("|ns" if "|" in event else "") for event, _ in got]
    assert names == ["metadata", "updates|ns", "updates", "updates", "end"]
    sub_event, sub_data = got[1]
    assert sub_event.startswith("updates|sub:")
    assert sub_data == {"step": {"x": 1}}
    assert got[2:4] == [("updates", {"sub": {"x": 1}}), ("updates", {"last": {"x": 2}})]
    plain = parts(client.runs.stream(thread_id, "nested", input={"x": 0},
                                     stream_mode="updates"))
    assert [e for e, _ in plain] == ["metadata", "updates", "updates", "end"]


def test_join_replays_every_event_in_order(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    first = list(client.runs.stream(thread_id, "custom", input={"n": 50},
                                    stream_mode=["custom", "values"]))
    run_id = first[0].data["run_id"]
    again = list(client.runs.join_stream(thread_id, run_id, last_event_id="-1"))
    assert again == first
    assert len(first) == 1 + 1 + 50 + 1 + 1  # metadata, values, 50 custom, values, end
    tail = list(client.runs.join_stream(thread_id, run_id, last_event_id="40"))
    assert tail == first[41:]
    assert list(client.runs.join_stream(thread_id, run_id)) == first  # no id: from the start


async def test_join_follows_a_live_run(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    run = await client.runs.create(thread_id, "custom", input={"n": 2000},
                                   stream_mode="custom")
    joined = [p async for p in client.runs.join_stream(thread_id, run["run_id"],
                                                       last_event_id="-1")]
    assert joined[0].event == "metadata"
    assert [p.data["i"] for p in joined if p.event == "custom"] == list(range(2000))
    assert joined[-1].event == "end"
    assert [p.id for p in joined] == [str(i) for i in range(len(joined))]


def test_stream_headers(url: str) -> None:
    thread_id = httpx.post(f"{url}/threads", json={}).json()["thread_id"]
    with httpx.stream("POST", f"{url}/threads/{thread_id}/runs/stream",
                      json={"assistant_id": "chain3", "input": {"x": 0}}) as response:
        body = response.read().decode()
    assert response.headers["content-type"].startswith("text/event-stream")
    run_id = response.headers["content-location"].rsplit("/", 1)[1]
    base = f"/threads/{thread_id}/runs/{run_id}"
    assert response.headers["content-location"] == base
    assert response.headers["location"] == f"{base}/stream"
    assert body.startswith(f'event: metadata\ndata: {{"run_id":"{run_id}","attempt":1}}\nid: 0\n\n')


def test_a_failing_run_streams_an_error(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    got = parts(client.runs.stream(thread_id, "boom", input={"x": 1}, stream_mode="values"))
    assert got[1:] == [("values", {"x": 1}), ("values", {"x": 2}),
                       ("error", {"error": "ValueError", "message": "no good: 2"}),
                       ("end", None)]
    thread = client.threads.get(thread_id)
    assert thread["status"] == "error"
    assert thread["error"] == {"error": "ValueError", "message": "no good: 2"}


def test_debug_checkpoints_and_run_metadata(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    got = list(client.runs.stream(thread_id, "chain3", input={"x": 0}, stream_mode="debug"))
    run_id = got[0].data["run_id"]
    checkpoints = [p.data for p in got if p.event == "debug" and p.data["type"] == "checkpoint"]
    assert len(checkpoints) == 5
    first, second = checkpoints[0]["payload"], checkpoints[1]["payload"]
    # as LangGraph's server adds them (Studio reads them)
    assert first["parent_checkpoint"] is None
    assert first["checkpoint"] == {
        "checkpoint_id": first["config"]["configurable"]["checkpoint_id"],
        "thread_id": thread_id, "checkpoint_ns": ""}
    assert second["parent_checkpoint"] == first["checkpoint"]
    metadata = client.threads.get_state(thread_id)["metadata"]
    assert {k: metadata[k] for k in ("graph_id", "run_id", "run_attempt", "created_by",
                                     "langgraph_version", "langgraph_host")} == {
        "graph_id": "chain3", "run_id": run_id, "run_attempt": 1, "created_by": "system",
        "langgraph_version": "1.2.22", "langgraph_host": "self-hosted"}


def test_debug_checkpoints_name_a_subgraph_tasks_checkpoint(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    got = list(client.runs.stream(thread_id, "nested", input={"x": 0}, stream_mode="debug"))
    tasks = [task for p in got if p.event == "debug" and p.data["type"] == "checkpoint"
             for task in p.data["payload"]["tasks"] if task["name"] == "sub"]
    # langgraph dev: a subgraph task's `state` (its config) is sent as `checkpoint`,
    # the config's `configurable`.
    assert tasks == [{"id": tasks[0]["id"], "name": "sub", "interrupts": [], "checkpoint": {
        "thread_id": thread_id, "checkpoint_ns": f"sub:{tasks[0]['id']}"}}]


def test_messages_metadata_names_the_run(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    got = list(client.runs.stream(None, "tokens", input={"n": 1}, stream_mode="messages-tuple"))
    _, metadata = next(p.data for p in got if p.event == "messages")
    assert (metadata["graph_id"], metadata["run_id"], metadata["assistant_id"]) == (
        "tokens", got[0].data["run_id"], "d8d0182e-2cbc-5729-9506-df498005c394")
