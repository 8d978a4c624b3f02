"""The ``events`` stream mode: each event of ``astream_events(version="v2")`` as an
``events`` SSE event ``{event, data, name, tags, run_id, metadata, parent_ids}``, alone
or with the other modes of the same run, with ``stream_subgraphs``, and on a join.

Compared with ``langgraph dev`` 0.16.7 (LangGraph 1.2.22, langchain-core 1.8.3) on the
same graphs (the benchmark's ``chain3``; ``tokens`` with n=2, ``nested``, ``mixed`` and
``boom`` of ``graphs.py``, their models LangChain ones streaming one word per chunk)
and the same client calls, ids scrubbed. The same: which events are sent and their
payloads, the root chain named by the graph id with the API run's id as its
``run_id``, the order of the ``events`` events among themselves and against
``values``/``updates`` (``chain3``, ``nested``), no ``events`` of the root chain's own
``on_chain_stream`` (those carry the other modes), the plain ``events`` name under
``stream_subgraphs`` (no ``|namespace``), no event for a failing node before ``error``.
What differs:

- a node's ``run_id`` is its task id (the id in its ``langgraph_checkpoint_ns``);
  LangGraph gives each node run a fresh id;
- ``messages-tuple``/``messages`` items come as the model streams, each just before its
  ``on_chat_model_stream`` event; ``langgraph dev`` sends them in a burst after the
  model's events (after the node's ``on_chain_stream``); in the same way, in ``mixed``
  the subgraph's first ``values`` and the node's ``custom`` item come before the node's
  ``on_chain_start`` and the model's events (``langgraph dev``: after them);
- what rillet's streams differ in anyway: the model's last empty chunk
  (``chunk_position: "last"``) LangGraph sends, message ids ``run-...`` (LangChain:
  ``lc_run--...``), metadata keys of LangGraph's platform and model classes
  (``langgraph_plan``, ``langgraph_api_version``, ``lc_versions``, ``ls_provider``),
  rillet's final ``end`` event; and every event has an ``id``, so a join replays
  them (``langgraph dev`` replays nothing of a run not started ``stream_resumable``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from langgraph_sdk import get_client, get_sync_client

pytestmark = pytest.mark.timeout(60)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CHAIN3 = "b1376d66-f966-548c-85a8-2dc0cc1354f6"  # system assistant ids (langgraph dev's)
TOKENS = "d8d0182e-2cbc-5729-9506-df498005c394"


def scrub(data: Any, ids: dict[str, str]) -> Any:
    """Every id replaced by its name in ``ids`` (ids not named there: ``<id>``)."""
    if isinstance(data, dict):
        return {k: scrub(v, ids) for k, v in data.items()}
    if isinstance(data, list):
        return [scrub(v, ids) for v in data]
    if isinstance(data, str):
        return _UUID.sub(lambda m: ids.get(m.group(0), "<id>"), data)
    return data


def named_ids(parts: list[tuple[str, Any]], thread_id: str | None) -> dict[str, str]:
    """``<run>``, ``<thread>``, and each node's run (task) id as ``<node name>``."""
    ids = {CHAIN3: CHAIN3, TOKENS: TOKENS, parts[0][1]["run_id"]: "<run>"}
    if thread_id is not None:
        ids[thread_id] = "<thread>"
    for event, data in parts:
        if event == "events" and data["parent_ids"] == [parts[0][1]["run_id"]]:
            ids.setdefault(data["run_id"], f"<{data['name']}>")
    return ids


def run_metadata(graph_id: str, assistant_id: str, url: str) -> dict[str, Any]:
    return {"created_by": "system", "graph_id": graph_id, "assistant_id": assistant_id,
            "run_attempt": 1, "langgraph_version": "1.2.22", "langgraph_host": "self-hosted",
            "langgraph_api_url": url, "run_id": "<run>", "thread_id": "<thread>",
            "ls_integration": "langgraph"}


def chain3_events(url: str) -> list[tuple[str, Any]]:
    """What ``langgraph dev`` sends for ``chain3`` in ``events`` mode (ids scrubbed)."""
    root = run_metadata("chain3", CHAIN3, url)

    def node(name: str, step: int) -> dict[str, Any]:
        return {"name": name, "tags": [f"graph:step:{step}"], "run_id": f"<{name}>",
                "parent_ids": ["<run>"], "metadata": {
                    **root, "langgraph_step": step, "langgraph_node": name,
                    "langgraph_triggers": [f"branch:to:{name}"],
                    "langgraph_path": ["__pregel_pull", name],
                    "langgraph_checkpoint_ns": f"{name}:<{name}>"}}

    out: list[tuple[str, Any]] = [("events", {
        "event": "on_chain_start", "data": {"input": {"x": 0}}, "name": "chain3", "tags": [],
        "run_id": "<run>", "metadata": root, "parent_ids": []})]
    for step, name in enumerate("abc", start=1):
        x = step - 1
        out += [
            ("events", {"event": "on_chain_start", "data": {"input": {"x": x}},
                        **node(name, step)}),
            ("events", {"event": "on_chain_stream", "data": {"chunk": {"x": x + 1}},
                        **node(name, step)}),
            ("events", {"event": "on_chain_end",
                        "data": {"output": {"x": x + 1}, "input": {"x": x}},
                        **node(name, step)}),
        ]
    out.append(("events", {
        "event": "on_chain_end", "data": {"output": {"x": 3}}, "name": "chain3", "tags": [],
        "run_id": "<run>", "metadata": root, "parent_ids": []}))
    return out


def test_events_of_chain3(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    got = [(p.event, p.data) for p in client.runs.stream(
        thread_id, "chain3", input={"x": 0}, stream_mode="events")]
    ids = named_ids(got, thread_id)
    # the root chain's run_id is the API run's
    assert got[1][1]["run_id"] == got[0][1]["run_id"] == client.runs.list(thread_id)[0]["run_id"]
    assert [(event, scrub(data, ids)) for event, data in got] == [
        ("metadata", {"run_id": "<run>", "attempt": 1}), *chain3_events(url), ("end", None)]


def test_events_with_values_and_updates_then_join(url: str) -> None:
    """One run gives both, in ``langgraph dev``'s order; a join replays every event."""
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    stream = list(client.runs.stream(thread_id, "chain3", input={"x": 0},
                                     stream_mode=["events", "values", "updates"]))
    got = [(p.event, p.data) for p in stream]
    ids = named_ids(got, thread_id)
    events = chain3_events(url)
    assert [(event, scrub(data, ids)) for event, data in got] == [
        ("metadata", {"run_id": "<run>", "attempt": 1}),
        events[0], ("values", {"x": 0}),
        *events[1:4], ("updates", {"a": {"x": 1}}), ("values", {"x": 1}),
        *events[4:7], ("updates", {"b": {"x": 2}}), ("values", {"x": 2}),
        *events[7:10], ("updates", {"c": {"x": 3}}), ("values", {"x": 3}),
        events[10], ("end", None),
    ]
    assert [p.id for p in stream] == [str(i) for i in range(len(stream))]
    joined = list(client.runs.join_stream(thread_id, got[0][1]["run_id"], last_event_id="-1"))
    assert [(p.event, p.data, p.id) for p in joined] == [(p.event, p.data, p.id) for p in stream]
    assert client.runs.get(thread_id, got[0][1]["run_id"])["kwargs"]["stream_mode"] == [
        "events", "values", "updates"]


def chunk(content: str) -> dict[str, Any]:
    return {"type": "AIMessageChunk", "content": content, "additional_kwargs": {},
            "response_metadata": {}, "name": None, "id": "run-<model>", "tool_calls": [],
            "invalid_tool_calls": [], "usage_metadata": None, "tool_call_chunks": [],
            "chunk_position": None}


async def test_model_events_with_messages_tuple(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    got = [(p.event, p.data) async for p in client.runs.stream(
        thread_id, "tokens", input={"n": 2}, stream_mode=["events", "messages-tuple"])]
    ids = named_ids(got, thread_id)
    ids[got[3][1]["run_id"]] = "<model>"  # the message id is "run-" + the model run's
    task = {**run_metadata("tokens", TOKENS, url),
            "langgraph_step": 1, "langgraph_node": "call_model",
            "langgraph_triggers": ["branch:to:call_model"],
            "langgraph_path": ["__pregel_pull", "call_model"],
            "langgraph_checkpoint_ns": "call_model:<call_model>"}
    model = {**task, "ls_integration": "langchain_chat_model",
             "checkpoint_ns": "call_model:<call_model>", "ls_provider": "fake",
             "ls_model_name": "fake-chat-model", "ls_model_type": "chat"}
    of_model = {"name": "FakeChatModel", "tags": ["seq:step:1"], "run_id": "<model>",
                "parent_ids": ["<run>", "<call_model>"], "metadata": model}
    of_node = {"name": "call_model", "tags": ["graph:step:1"], "run_id": "<call_model>",
               "parent_ids": ["<run>"], "metadata": task}
    of_root = {"name": "tokens", "tags": [], "run_id": "<run>", "parent_ids": [],
               "metadata": run_metadata("tokens", TOKENS,
                                        url)}
    prompt = {"messages": [[{"content": "Say n words.", "additional_kwargs": {},
                             "response_metadata": {}, "type": "human", "name": None,
                             "id": None}]]}
    reply = {k: v for k, v in chunk("alpha beta").items()
             if k not in ("tool_call_chunks", "chunk_position")}
    assert [(event, scrub(data, ids)) for event, data in got] == [
        ("metadata", {"run_id": "<run>", "attempt": 1}),
        ("events", {"event": "on_chain_start", "data": {"input": {"n": 2}}, **of_root}),
        ("events", {"event": "on_chain_start", "data": {"input": {"n": 2}}, **of_node}),
        ("events", {"event": "on_chat_model_start", "data": {"input": prompt}, **of_model}),
        ("messages", [chunk("alpha"), model]),
        ("events", {"event": "on_chat_model_stream", "data": {"chunk": chunk("alpha")},
                    **of_model}),
        ("messages", [chunk(" beta"), model]),
        ("events", {"event": "on_chat_model_stream", "data": {"chunk": chunk(" beta")},
                    **of_model}),
        ("events", {"event": "on_chat_model_end",
                    "data": {"output": {**reply, "type": "ai"}, "input": prompt}, **of_model}),
        ("events", {"event": "on_chain_stream", "data": {"chunk": {"count": 10}}, **of_node}),
        ("events", {"event": "on_chain_end", "data": {"output": {"count": 10},
                                                      "input": {"n": 2}}, **of_node}),
        ("events", {"event": "on_chain_end", "data": {"output": {"n": 2, "count": 10}},
                    **of_root}),
        ("end", None),
    ]


def brief(parts: list[tuple[str, Any]]) -> list[tuple[str, ...]]:
    return [(event, data["event"], data["name"], *data["tags"]) if event == "events"
            else (event.split("|")[0] + ("|sub" if "|" in event else ""),)
            for event, data in parts]


async def test_every_mode_with_subgraphs_then_join(url: str) -> None:
    """``mixed`` (a subgraph whose node writes custom data and calls a model) in every
    mode ag-ui's LangGraph client asks for, with subgraphs; the ``events`` events are
    ``langgraph dev``'s, in its order (the other items interleave as the module doc
    says)."""
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    stream = [p async for p in client.runs.stream(
        thread_id, "mixed", input={"x": 0}, stream_subgraphs=True,
        stream_mode=["events", "values", "updates", "custom", "messages-tuple"])]
    got = [(p.event, p.data) for p in stream]
    assert brief(got) == [
        ("metadata",),
        ("events", "on_chain_start", "mixed"),
        ("values",),
        ("events", "on_chain_start", "sub", "graph:step:1"),
        ("events", "on_chain_start", "LangGraph", "seq:step:1"),
        ("values|sub",),
        ("events", "on_chain_start", "work", "graph:step:1"),
        ("custom|sub",),
        ("events", "on_chat_model_start", "FakeChatModel", "seq:step:1"),
        ("messages|sub",),
        ("events", "on_chat_model_stream", "FakeChatModel", "seq:step:1"),
        ("messages|sub",),
        ("events", "on_chat_model_stream", "FakeChatModel", "seq:step:1"),
        ("events", "on_chat_model_end", "FakeChatModel", "seq:step:1"),
        ("events", "on_chain_stream", "work", "graph:step:1"),
        ("events", "on_chain_end", "work", "graph:step:1"),
        ("updates|sub",),
        ("values|sub",),
        ("events", "on_chain_end", "LangGraph", "seq:step:1"),
        ("events", "on_chain_stream", "sub", "graph:step:1"),
        ("events", "on_chain_end", "sub", "graph:step:1"),
        ("updates",),
        ("values",),
        ("events", "on_chain_start", "last", "graph:step:2"),
        ("events", "on_chain_stream", "last", "graph:step:2"),
        ("events", "on_chain_end", "last", "graph:step:2"),
        ("updates",),
        ("values",),
        ("events", "on_chain_end", "mixed"),
        ("end",),
    ]
    ids = named_ids(got, thread_id)
    sub_start, inner_start, work_start = got[3][1], got[4][1], got[6][1]
    ids[inner_start["run_id"]] = "<inner>"
    ids[work_start["run_id"]] = "<work>"
    assert scrub(got[5][0], ids) == "values|sub:<sub>"  # the namespace has the task id
    assert scrub(inner_start, ids) == {
        "event": "on_chain_start", "data": {"input": {"x": 0}}, "name": "LangGraph",
        "tags": ["seq:step:1"], "run_id": "<inner>", "parent_ids": ["<run>", "<sub>"],
        "metadata": {**scrub(sub_start["metadata"], ids), "checkpoint_ns": "sub:<sub>"}}
    assert scrub(work_start, ids)["parent_ids"] == ["<run>", "<sub>", "<inner>"]
    assert scrub(work_start, ids)["metadata"]["langgraph_checkpoint_ns"] == \
        "sub:<sub>|work:<work>"
    assert got[7][1] == {"at": 0}
    # a join replays them all, from the start and after an id
    joined = [(p.event, p.data) async for p in client.runs.join_stream(
        thread_id, got[0][1]["run_id"], last_event_id="-1")]
    assert joined == got
    later = [p.id async for p in client.runs.join_stream(
        thread_id, got[0][1]["run_id"], last_event_id="9")]
    assert later == [str(i) for i in range(10, len(got))]


def test_a_failing_run_sends_its_events_then_the_error(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    got = [(p.event, p.data) for p in client.runs.stream(
        None, "boom", input={"x": 0}, stream_mode=["events", "updates"])]
    assert brief(got) == [
        ("metadata",), ("events", "on_chain_start", "boom"),
        ("events", "on_chain_start", "a", "graph:step:1"),
        ("events", "on_chain_stream", "a", "graph:step:1"),
        ("events", "on_chain_end", "a", "graph:step:1"),
        ("updates",),
        ("events", "on_chain_start", "b", "graph:step:2"),
        ("error",), ("end",),
    ]
    assert got[-2][1] == {"error": "ValueError", "message": "no good: 1"}
