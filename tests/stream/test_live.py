"""What rillet does beyond LangGraph: live delivery, interleaving, early exit,
errors after items, sync/async crossing, bounded memory.

Timing is proven with handshakes: a node waits for an event that only the consumer
sets after receiving an item. A wait that times out fails the test (it never passes
by sleeping).
"""

from __future__ import annotations

import asyncio
import operator
import threading
from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

import pytest

from rillet.config import get_stream_writer
from rillet.errors import StreamClosedError
from rillet.graph import START, StateGraph
from rillet.messages import AIMessageChunk, BaseMessage
from rillet.models import ChatModel
from rillet.stream._bus import DEFAULT_MAXSIZE

HANDSHAKE_TIMEOUT = 10  # a failing test fails after this; a passing one never waits it out


class S(TypedDict):
    log: Annotated[list[str], operator.add]


def single(node) -> Any:
    return StateGraph(S).add_node("node", node).add_edge(START, "node").compile()


def wait(event: threading.Event) -> None:
    assert event.wait(HANDSHAKE_TIMEOUT), "handshake timed out: the item was not delivered live"


async def await_event(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), HANDSHAKE_TIMEOUT)


# ------------------------------------------------------------ live delivery


def test_sync_items_arrive_while_the_node_runs(no_leaked_threads) -> None:
    received = threading.Event()

    def node(state: S) -> dict:
        writer = get_stream_writer()
        writer("first")
        wait(received)  # only the consumer can set this, after it got "first"
        writer("second")
        return {"log": ["done"]}

    items = []
    for item in single(node).stream({"log": []}, stream_mode="custom"):
        items.append(item)
        if item == "first":
            received.set()
    assert items == ["first", "second"]


async def test_async_items_arrive_while_the_node_runs() -> None:
    received = asyncio.Event()

    async def node(state: S) -> dict:
        writer = get_stream_writer()
        writer("first")
        await await_event(received)
        writer("second")
        return {"log": ["done"]}

    items = []
    async for item in single(node).astream({"log": []}, stream_mode="custom"):
        items.append(item)
        if item == "first":
            received.set()
    assert items == ["first", "second"]


class HandshakeModel(ChatModel):
    """Streams its tokens, waiting before each one (after the first) for a go-ahead."""

    provider = "handshake"

    def __init__(self, tokens: list[str], gates: list[threading.Event]) -> None:
        super().__init__(model_name="handshake")
        self.tokens, self.gates = tokens, gates

    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        for i, token in enumerate(self.tokens):
            if i:
                wait(self.gates[i - 1])
            yield AIMessageChunk(content=token)


@pytest.mark.parametrize("use_async", [False, True])
async def test_parallel_nodes_tokens_interleave(use_async: bool) -> None:
    """Two parallel nodes stream tokens; each token of one is released by the consumer
    receiving a token of the other, so the only possible order is a1 b1 a2 b2 a3 b3."""
    gates = {name: [threading.Event(), threading.Event()] for name in "ab"}
    model_a = HandshakeModel(["a1", "a2", "a3"], gates["a"])
    model_b = HandshakeModel(["b1", "b2", "b3"], gates["b"])

    def node_a(state: S) -> dict:
        return {"log": [model_a.invoke("go").content]}

    def node_b(state: S) -> dict:
        wait(first_a)
        return {"log": [model_b.invoke("go").content]}

    first_a = threading.Event()
    releases = {"a1": first_a, "b1": gates["a"][0], "a2": gates["b"][0], "b2": gates["a"][1],
                "a3": gates["b"][1]}
    graph = (
        StateGraph(S)
        .add_node("a", node_a)
        .add_node("b", node_b)
        .add_edge(START, "a")
        .add_edge(START, "b")
        .compile()
    )
    seen: list[tuple[str, str]] = []

    def on_item(chunk: Any, metadata: dict) -> None:
        seen.append((metadata["langgraph_node"], chunk.content))
        if chunk.content in releases:
            releases[chunk.content].set()

    if use_async:
        async for chunk, metadata in graph.astream({"log": []}, stream_mode="messages"):
            on_item(chunk, metadata)
    else:
        for chunk, metadata in graph.stream({"log": []}, stream_mode="messages"):
            on_item(chunk, metadata)
    tokens = [(node, content) for node, content in seen if len(content) == 2]
    assert tokens == [("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2"), ("a", "a3"),
                      ("b", "b3")]


# --------------------------------------------------------------- early exit


def test_sync_break_stops_a_streaming_node(no_leaked_threads) -> None:
    stopped = threading.Event()
    errors: list[BaseException] = []

    def node(state: S) -> dict:
        writer = get_stream_writer()
        try:
            i = 0
            while True:
                writer(i)
                i += 1
        except StreamClosedError as exc:
            errors.append(exc)
            raise
        finally:
            stopped.set()

    for item in single(node).stream({"log": []}, stream_mode="custom"):
        if item == 3:
            break
    # Leaving the loop closed the run: the node's next write raised StreamClosedError
    # (in the background: the consumer does not wait for the node).
    assert stopped.wait(HANDSHAKE_TIMEOUT)
    assert len(errors) == 1


def test_sync_close_stops_parallel_nodes(no_leaked_threads) -> None:
    stopped: list[str] = []
    lock = threading.Lock()
    both = threading.Barrier(3)
    running = threading.Barrier(2)  # both nodes started before the consumer leaves

    def make(name: str):
        def node(state: S) -> dict:
            writer = get_stream_writer()
            running.wait(HANDSHAKE_TIMEOUT)
            try:
                while True:
                    writer(name)
            finally:
                with lock:
                    stopped.append(name)
                both.wait(HANDSHAKE_TIMEOUT)

        return node

    graph = (
        StateGraph(S)
        .add_node("a", make("a"))
        .add_node("b", make("b"))
        .add_edge(START, "a")
        .add_edge(START, "b")
        .compile()
    )
    stream = graph.stream({"log": []}, stream_mode="custom")
    next(stream)
    stream.close()
    both.wait(HANDSHAKE_TIMEOUT)  # each node stopped at its next write
    assert sorted(stopped) == ["a", "b"]


async def test_async_aclose_cancels_the_run() -> None:
    cancelled = asyncio.Event()

    async def node(state: S) -> dict:
        writer = get_stream_writer()
        try:
            i = 0
            while True:
                writer(i)
                i += 1
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    stream = single(node).astream({"log": []}, stream_mode="custom")
    async for item in stream:
        if item == 3:
            break
    await stream.aclose()
    assert cancelled.is_set()


async def test_async_consumer_task_cancelled_stops_the_run() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def node(state: S) -> dict:
        get_stream_writer()("hello")
        try:
            await asyncio.Event().wait()  # never set: only cancellation ends this
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {}

    async def consume() -> None:
        async for _ in single(node).astream({"log": []}, stream_mode="custom"):
            started.set()

    consumer = asyncio.create_task(consume())
    await await_event(started)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert cancelled.is_set()


async def test_astream_aclose_stops_a_sync_node_thread() -> None:
    stopped = threading.Event()

    def node(state: S) -> dict:
        writer = get_stream_writer()
        try:
            while True:
                writer("x")
        finally:
            stopped.set()

    stream = single(node).astream({"log": []}, stream_mode="custom")
    await stream.__anext__()
    await stream.aclose()
    # The node's next write raised StreamClosedError, in its thread.
    assert await asyncio.to_thread(stopped.wait, HANDSHAKE_TIMEOUT)


# --------------------------------------------------------------- exceptions


@pytest.mark.parametrize("use_async", [False, True])
async def test_exception_arrives_after_the_items_before_it(use_async: bool) -> None:
    def node(state: S) -> dict:
        writer = get_stream_writer()
        writer("one")
        writer("two")
        raise ValueError("boom")

    graph = single(node)
    items: list[Any] = []
    with pytest.raises(ValueError, match="boom") as info:
        if use_async:
            async for item in graph.astream({"log": []}, stream_mode=["custom", "tasks"]):
                items.append(item)
        else:
            for item in graph.stream({"log": []}, stream_mode=["custom", "tasks"]):
                items.append(item)
    assert [i[1] for i in items if i[0] == "custom"] == ["one", "two"]
    result = items[-1][1]
    assert result["name"] == "node" and result["error"] is info.value and result["result"] == {}
    assert any("During task with name 'node'" in note for note in info.value.__notes__)


def test_exception_in_one_parallel_node_waits_for_the_others(no_leaked_threads) -> None:
    finished = threading.Event()

    def bad(state: S) -> dict:
        raise KeyError("bad")

    def good(state: S) -> dict:
        finished.set()
        return {"log": ["good"]}

    graph = (
        StateGraph(S)
        .add_node("bad", bad)
        .add_node("good", good)
        .add_edge(START, "bad")
        .add_edge(START, "good")
        .compile()
    )
    with pytest.raises(KeyError):
        list(graph.stream({"log": []}))
    assert finished.is_set()


# ------------------------------------------------------- sync <-> async nodes


def test_sync_stream_runs_async_nodes() -> None:
    async def node(state: S) -> dict:
        await asyncio.sleep(0)
        get_stream_writer()("from async")
        return {"log": ["async"]}

    graph = single(node)
    assert list(graph.stream({"log": []}, stream_mode=["custom", "updates"])) == [
        ("custom", "from async"),
        ("updates", {"node": {"log": ["async"]}}),
    ]
    assert graph.invoke({"log": []}) == {"log": ["async"]}


async def test_astream_runs_sync_nodes_in_threads() -> None:
    """A blocking sync node waits for an async sibling: only possible if the sync node
    does not block the event loop."""
    go = threading.Event()

    def blocking(state: S) -> dict:
        wait(go)
        return {"log": ["sync"]}

    async def releaser(state: S) -> dict:
        go.set()
        return {"log": ["async"]}

    graph = (
        StateGraph(S)
        .add_node("blocking", blocking)
        .add_node("releaser", releaser)
        .add_edge(START, "blocking")
        .add_edge(START, "releaser")
        .compile()
    )
    assert await graph.ainvoke({"log": []}) == {"log": ["sync", "async"]}


# ----------------------------------------------------------- bounded memory


def test_sync_slow_consumer_bounds_the_buffer(no_leaked_threads) -> None:
    produced = 0
    total = DEFAULT_MAXSIZE * 5

    def node(state: S) -> dict:
        nonlocal produced
        writer = get_stream_writer()
        for i in range(total):
            writer(i)
            produced += 1
        return {}

    backlog = []
    consumed = 0
    for item in single(node).stream({"log": []}, stream_mode="custom"):
        assert item == consumed
        consumed += 1
        backlog.append(produced - consumed)
    assert consumed == total
    # The producer never ran more than a bus-full ahead of the consumer.
    assert max(backlog) <= DEFAULT_MAXSIZE + 1


class CountingModel(ChatModel):
    provider = "counting"

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.produced = 0

    def _stream(self, messages: list[BaseMessage], **kwargs: Any) -> Iterator[AIMessageChunk]:
        raise NotImplementedError

    async def _astream(self, messages: list[BaseMessage], **kwargs: Any):
        for i in range(self.n):
            self.produced += 1
            yield AIMessageChunk(content=str(i))


async def test_async_model_tokens_respect_the_bound() -> None:
    model = CountingModel(DEFAULT_MAXSIZE * 4)

    async def node(state: S) -> dict:
        await model.ainvoke("go")
        return {}

    backlog = []
    consumed = 0
    async for _chunk, _meta in single(node).astream({"log": []}, stream_mode="messages"):
        consumed += 1
        backlog.append(model.produced - consumed)
    assert consumed == model.n
    assert max(backlog) <= DEFAULT_MAXSIZE + 1
