"""The ``messages`` stream mode (``messages/metadata``, ``messages/partial``,
``messages/complete``) and the run options checked before a run starts.

Compared with ``langgraph dev`` 0.16.7 (LangGraph 1.2.22, langchain-core 1.8.3) on the
same graphs (the benchmark's ``tokens`` with n=3, and ``chat``: one node returning
``AIMessage("hello there", id="reply-1")``) and the same client calls: the events, their
order and their payloads are the same once run, thread and message ids and checkpoint
namespaces are scrubbed, except for

- LangGraph's model stream ends with one more, empty chunk (rillet-core has none), so
  ``langgraph dev`` sends a fourth ``messages/partial`` repeating the third;
- metadata keys of LangGraph's platform or of its model class that rillet has not
  (``langgraph_plan``, ``langgraph_api_version``, ``lc_versions``; ``ls_provider``
  ``"wordmodel"`` vs ``"fake"``, ``ls_model_name``), and key order;
- rillet's final ``end`` event (a departure of every rillet stream).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client

pytestmark = pytest.mark.timeout(60)

_HASHED_NS = re.compile(r"^(\w+):[0-9a-f-]{36}$")


def scrub(data: Any, ids: dict[str, str]) -> Any:
    """Ids replaced by ``<name>`` (as given in ``ids``), checkpoint namespaces'
    task ids by ``<task>``."""
    if isinstance(data, dict):
        return {ids.get(k, k): scrub(v, ids) for k, v in data.items()}
    if isinstance(data, list):
        return [scrub(v, ids) for v in data]
    if isinstance(data, str):
        if data in ids:
            return ids[data]
        return _HASHED_NS.sub(r"\1:<task>", data)
    return data


def ai(content: str, message_id: str) -> dict[str, Any]:
    return {"type": "ai", "content": content, "additional_kwargs": {}, "response_metadata": {},
            "name": None, "id": message_id, "tool_calls": [], "invalid_tool_calls": [],
            "usage_metadata": None}


def run_metadata(graph_id: str, assistant_id: str, url: str) -> dict[str, Any]:
    return {"created_by": "system", "graph_id": graph_id, "assistant_id": assistant_id,
            "run_attempt": 1, "langgraph_version": "1.2.22", "langgraph_host": "self-hosted",
            "langgraph_api_url": url, "run_id": "<run>", "thread_id": "<thread>"}


def test_messages_streams_the_message_so_far(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    thread_id = client.threads.create()["thread_id"]
    got = list(client.runs.stream(thread_id, "tokens", input={"n": 3},
                                  stream_mode=["messages", "values"]))
    message_id = next(iter(got[2].data))
    ids = {got[0].data["run_id"]: "<run>", thread_id: "<thread>", message_id: "<message>"}
    assert [(p.event, scrub(p.data, ids)) for p in got] == [
        ("metadata", {"run_id": "<run>", "attempt": 1}),
        ("values", {"n": 3}),
        ("messages/metadata", {"<message>": {"metadata": {
            **run_metadata("tokens", "d8d0182e-2cbc-5729-9506-df498005c394", url),
            "ls_integration": "langchain_chat_model", "langgraph_step": 1,
            "langgraph_node": "call_model", "langgraph_triggers": ["branch:to:call_model"],
            "langgraph_path": ["__pregel_pull", "call_model"],
            "langgraph_checkpoint_ns": "call_model:<task>", "checkpoint_ns": "call_model:<task>",
            "ls_provider": "fake", "ls_model_name": "fake-chat-model", "ls_model_type": "chat",
        }}}),
        # Each partial is the whole message so far, as a message (type "ai"), not a chunk.
        ("messages/partial", [ai("alpha", "<message>")]),
        ("messages/partial", [ai("alpha beta", "<message>")]),
        ("messages/partial", [ai("alpha beta gamma", "<message>")]),
        ("values", {"n": 3, "count": 16}),
        ("end", None),
    ]
    assert [p.id for p in got] == [str(i) for i in range(len(got))]
    # A join replays the same events from the run's log.
    joined = list(client.runs.join_stream(thread_id, got[0].data["run_id"]))
    assert [(p.event, p.data) for p in joined] == [(p.event, p.data) for p in got]


async def test_a_whole_message_is_complete(url: str) -> None:
    client = get_client(url=url, api_key=None)
    got = [(p.event, p.data) async for p in client.runs.stream(
        None, "chat", input={"messages": [{"role": "user", "content": "hi", "id": "u1"}]},
        stream_mode="messages")]
    ids = {got[0][1]["run_id"]: "<run>", got[1][1]["reply-1"]["metadata"]["thread_id"]:
           "<thread>"}
    # The input's message is not streamed (langgraph dev: the same).
    assert [(event, scrub(data, ids)) for event, data in got] == [
        ("metadata", {"run_id": "<run>", "attempt": 1}),
        ("messages/metadata", {"reply-1": {"metadata": {
            **run_metadata("chat", "eb6db400-e3c8-5d06-a834-015cb89efe69", url),
            "ls_integration": "langgraph", "langgraph_step": 1, "langgraph_node": "reply",
            "langgraph_triggers": ["branch:to:reply"],
            "langgraph_path": ["__pregel_pull", "reply"],
            "langgraph_checkpoint_ns": "reply:<task>",
        }}}),
        ("messages/complete", [ai("hello there", "reply-1")]),
        ("end", None),
    ]


def test_messages_from_a_subgraph_are_named_without_its_namespace(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    got = list(client.runs.stream(None, "mixed", input={"x": 1}, stream_mode="messages",
                                  stream_subgraphs=True))
    # langgraph dev: messages/* never carry `|ns` (the metadata says where they are from).
    assert [p.event for p in got] == ["metadata", "messages/metadata", "messages/partial",
                                      "messages/partial", "end"]
    (metadata,) = got[1].data.values()
    assert metadata["metadata"]["langgraph_checkpoint_ns"].startswith("sub:")


def test_messages_and_messages_tuple_together_send_the_tuples(url: str) -> None:
    client = get_sync_client(url=url, api_key=None)
    got = list(client.runs.stream(None, "chat", input={"messages": []},
                                  stream_mode=["messages", "messages-tuple"]))
    # langgraph dev: only the tuple form when both are asked for.
    assert [p.event for p in got] == ["metadata", "messages", "end"]
    message, metadata = got[1].data
    assert message == ai("hello there", "reply-1")
    assert metadata["langgraph_node"] == "reply"


async def test_still_refused_stream_modes(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        for mode, detail in [("messages-partial",
                              "stream mode 'messages-partial' is not supported yet"),
                             ("bogus", "unknown stream mode 'bogus'")]:
            response = await http.post("/runs/stream", json={
                "assistant_id": "chain3", "input": {"x": 0}, "stream_mode": [mode]})
            assert response.status_code == 422
            assert detail in response.json()["detail"]


@pytest.mark.parametrize(("body", "detail"), [
    ({"config": {"recursion_limit": 0}},
     "'config.recursion_limit': recursion_limit must be at least 1, got 0"),
    ({"config": {"recursion_limit": "x"}},
     "'config.recursion_limit': recursion_limit must be an int, got str: 'x'"),
    ({"config": {"recursion_limit": True}},
     "'config.recursion_limit': recursion_limit must be an int, got bool: True"),
    ({"interrupt_before": ["zz"]}, "interrupt_before: no node named 'zz' (nodes: a, b, c)"),
    ({"interrupt_after": ["a", "zz"]}, "interrupt_after: no node named 'zz' (nodes: a, b, c)"),
    ({"interrupt_before": "zz"}, "interrupt_before: no node named 'zz' (nodes: a, b, c)"),
    ({"interrupt_after": 3}, "interrupt_after takes node names or '*', got 3"),
])
async def test_run_options_are_checked_before_the_run(url: str, body: dict[str, Any],
                                                      detail: str) -> None:
    # langgraph dev: a 422 for a limit that is not an integer, but a run failing with
    # "recursion_limit must be at least 1" for 0; unknown interrupt nodes are ignored.
    # rillet refuses them all before making a run (its graph would refuse them when
    # the run starts).
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    async with httpx.AsyncClient(base_url=url) as http:
        for path in (f"/threads/{thread_id}/runs", f"/threads/{thread_id}/runs/stream",
                     f"/threads/{thread_id}/runs/wait", "/runs/wait"):
            response = await http.post(path, json={"assistant_id": "chain3",
                                                   "input": {"x": 0}, **body})
            assert (response.status_code, response.json()) == (422, {"detail": detail})
    assert await client.runs.list(thread_id) == []


async def test_good_run_options_still_run(url: str) -> None:
    client = get_client(url=url, api_key=None)
    assert await client.runs.wait(None, "chain3", input={"x": 0},
                                  config={"recursion_limit": 3}) == {"x": 3}
    assert await client.runs.wait(None, "chain3", input={"x": 0},
                                  interrupt_before="*") == {"x": 0}
    thread_id = (await client.threads.create())["thread_id"]
    assert await client.runs.wait(thread_id, "chain3", input={"x": 0},
                                  interrupt_after=["b"]) == {"x": 2}


@pytest.mark.parametrize(("command", "detail"), [
    ({"goto": "zz"},
     "'command.goto' names node 'zz', which the graph has not; its nodes: a, b, c, __end__"),
    ({"goto": ["a", {"node": "zz", "input": {}}]},
     "'command.goto' names node 'zz', which the graph has not; its nodes: a, b, c, __end__"),
    ({"goto": {"node": 3}},
     "'command.goto' must be a node name, a Send as {\"node\": name, \"input\": value}, "
     "or a list of them, got {'node': 3}"),
    ({"goto": 5}, "'command.goto' must be a node name, a Send as {\"node\": name, "
     "\"input\": value}, or a list of them, got 5"),
    ({"update": 3},
     "'command.update' must be an object of state keys, or a list of [key, value] pairs, "
     "got 3"),
    ({"update": [["x"]]}, "'command.update' must be an object of state keys, or a list of "
     "[key, value] pairs, got [['x']]"),
    ({"resume": 1, "bogus": 2}, "'command' has unknown keys ['bogus']; it takes resume, "
     "update, goto"),
    ("resume", "'command' must be an object, got 'resume'"),
])
async def test_a_bad_command_is_refused_before_the_run(url: str, command: Any,
                                                       detail: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.post(f"/threads/{thread_id}/runs/wait",
                                   json={"assistant_id": "chain3", "command": command})
    assert (response.status_code, response.json()) == (422, {"detail": detail})
    assert await client.runs.list(thread_id) == []


async def test_commands_with_sends_and_update_pairs(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    assert await client.runs.wait(thread_id, "chain3", input={"x": 0}) == {"x": 3}
    # a Send as the SDK sends one: b runs with x=10 (its result overwrites x), then c
    assert await client.runs.wait(thread_id, "chain3", command={
        "goto": {"node": "b", "input": {"x": 10}}}) == {"x": 12}
    # an update as [key, value] pairs, then a jump to c
    assert await client.runs.wait(thread_id, "chain3", command={
        "update": [["x", 5]], "goto": "c"}) == {"x": 6}


async def test_context_is_checked_against_the_context_schema(url: str) -> None:
    client = get_client(url=url, api_key=None)
    assert await client.runs.wait(None, "greet", input={}, context={"name": "Ada"}) == {
        "text": "hello Ada!"}
    async with httpx.AsyncClient(base_url=url) as http:
        for context, detail in [
            ({"nam": "Ada"}, "'context' does not fit the graph's context_schema: context="
             "{'nam': 'Ada'} does not fit context_schema Greeting: Greeting.__init__() got "
             "an unexpected keyword argument 'nam'. Pass the fields Greeting declares "
             "(name, punctuation)."),
            (["Ada"], "'context' must be an object, got ['Ada']"),
        ]:
            response = await http.post("/runs/wait", json={"assistant_id": "greet",
                                                           "context": context})
            assert (response.status_code, response.json()) == (422, {"detail": detail})


async def test_a_run_from_a_checkpoint_the_thread_has_not_is_a_404(url: str) -> None:
    client = get_client(url=url, api_key=None)
    thread_id = (await client.threads.create())["thread_id"]
    await client.runs.wait(thread_id, "chain3", input={"x": 0})
    missing = "1f0c0000-0000-6000-8000-000000000000"
    async with httpx.AsyncClient(base_url=url) as http:
        for body in ({"checkpoint_id": missing}, {"checkpoint": {"checkpoint_id": missing}}):
            response = await http.post(f"/threads/{thread_id}/runs/wait",
                                       json={"assistant_id": "chain3", "input": None, **body})
            assert (response.status_code, response.json()) == (404, {"detail": (
                f"Thread {thread_id} has no checkpoint '{missing}'; take one from the "
                "thread's history")})
    assert len(await client.runs.list(thread_id)) == 1
    # a checkpoint it has: the run forks from it
    first = (await client.threads.get_history(thread_id))[-1]["checkpoint"]["checkpoint_id"]
    assert await client.runs.wait(thread_id, "chain3", input=None,
                                  checkpoint_id=first) == {"x": 3}
