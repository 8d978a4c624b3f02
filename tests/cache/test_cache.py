"""Node caching: ``CachePolicy``, ``compile(cache=...)``, ``clear_cache``.

The expected outputs below are what LangGraph 1.2.22 printed for the same programs:
this file, with ``langgraph`` in its imports, passes against the oracle install except
where rillet differs on purpose, and those tests say so (a failing cache is a miss,
duplicate keys in one step all hit, the injected ``clock``, policy checks). Hits and
misses are counted by the nodes' side effects.
"""

from __future__ import annotations

import asyncio
import logging
import operator
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

import pytest

from rillet.cache.base import BaseCache
from rillet.cache.memory import InMemoryCache
from rillet.checkpoint.memory import InMemorySaver
from rillet.errors import UsageError
from rillet.graph import START, StateGraph
from rillet.runtime._cache import default_cache_key
from rillet.stream._events import CachedUpdatesEvent
from rillet.types import CachePolicy, Command, Send, interrupt
from tests.conftest import scrub


class State(TypedDict):
    x: int
    log: Annotated[list[Any], operator.add]


class Clock:
    """A clock the test moves by hand: ttls expire without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def chain(calls: list[str], cache: BaseCache[Any] | None, **policy: Any) -> Any:
    """START -> a (cached) -> b."""

    def a(state: State) -> dict[str, Any]:
        calls.append("a")
        return {"x": state["x"] + 1, "log": ["a"]}

    def b(state: State) -> dict[str, Any]:
        calls.append("b")
        return {"log": ["b"]}

    builder = StateGraph(State)
    builder.add_node("a", a, cache_policy=CachePolicy(**policy))
    builder.add_node("b", b)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    return builder.compile(cache=cache)


# ------------------------------------------------------------- hits and misses


def test_a_hit_skips_the_node_and_is_marked_cached() -> None:
    calls: list[str] = []
    graph = chain(calls, InMemoryCache())
    assert graph.invoke({"x": 1}) == {"x": 2, "log": ["a", "b"]}
    assert graph.invoke({"x": 1}) == {"x": 2, "log": ["a", "b"]}
    assert calls == ["a", "b", "b"]
    calls.clear()
    assert list(graph.stream({"x": 1}, stream_mode="updates")) == [
        {"a": {"x": 2, "log": ["a"]}, "__metadata__": {"cached": True}},
        {"b": {"log": ["b"]}},
    ]
    assert list(graph.stream({"x": 1}, stream_mode=["updates", "values"])) == [
        ("values", {"x": 1, "log": []}),
        ("updates", {"a": {"x": 2, "log": ["a"]}, "__metadata__": {"cached": True}}),
        ("values", {"x": 2, "log": ["a"]}),
        ("updates", {"b": {"log": ["b"]}}),
        ("values", {"x": 2, "log": ["a", "b"]}),
    ]
    assert calls == ["b", "b"]
    assert graph.invoke({"x": 2}) == {"x": 3, "log": ["a", "b"]}  # another input: a miss
    assert calls == ["b", "b", "a", "b"]


def test_a_cached_update_is_its_own_event_and_keys_ignore_key_order() -> None:
    # Uncached updates keep their JSON shape; a cached one says so.
    event = CachedUpdatesEvent((), "a", {"x": 2})
    assert event.to_dict() == {"kind": "updates", "ns": (), "run": "", "seq": -1,
                               "node": "a", "update": {"x": 2}, "cached": True}
    # Equal inputs share a key whatever their key order; a list is not a dict.
    assert default_cache_key({"a": 1, "b": [1]}) == default_cache_key({"b": [1], "a": 1})
    assert default_cache_key([["__dict__", []]]) != default_cache_key({})


def test_a_cached_task_has_a_start_but_no_result() -> None:
    graph = chain([], InMemoryCache())
    graph.invoke({"x": 1})
    items = scrub(list(graph.stream({"x": 1}, stream_mode="tasks")))
    assert items == [
        {"id": "<id>", "name": "a", "input": {"log": [], "x": 1},
         "triggers": ("branch:to:a",)},
        {"id": "<id>", "name": "b", "input": {"log": ["a"], "x": 2},
         "triggers": ("branch:to:b",)},
        {"id": "<id>", "name": "b", "error": None, "result": {"log": ["b"]},
         "interrupts": []},
    ]
    debug = [(d["type"], d["payload"]["name"])
             for d in graph.stream({"x": 1}, stream_mode="debug")]
    assert debug == [("task", "a"), ("task", "b"), ("task_result", "b")]


def test_the_default_key_is_the_input_whatever_its_key_order() -> None:
    calls: list[str] = []
    graph = chain(calls, InMemoryCache())
    graph.invoke({"x": 1})
    assert graph.invoke({"log": [], "x": 1}) == {"x": 2, "log": ["a", "b"]}
    assert calls == ["a", "b", "b"]


def test_key_func_chooses_what_is_the_same() -> None:
    calls: list[str] = []
    graph = chain(calls, InMemoryCache(), key_func=lambda s: str(s["x"] % 2))
    graph.invoke({"x": 1})
    # x=3 has x=1's key: it takes x=1's writes, as in LangGraph.
    assert graph.invoke({"x": 3}) == {"x": 2, "log": ["a", "b"]}
    assert calls == ["a", "b", "b"]


def test_a_policy_without_a_cache_is_ignored() -> None:
    calls: list[str] = []
    graph = chain(calls, None)
    graph.invoke({"x": 1})
    graph.invoke({"x": 1})
    assert calls == ["a", "b", "a", "b"]
    with pytest.raises(ValueError) as caught:
        graph.clear_cache()
    assert str(caught.value) == "No cache is set for this graph. Cannot clear cache."


def test_clear_cache_by_node() -> None:
    calls: list[str] = []
    graph = chain(calls, InMemoryCache())
    graph.invoke({"x": 1})
    graph.clear_cache(["b", "not a node"])  # unknown names are skipped
    graph.invoke({"x": 1})
    assert calls == ["a", "b", "b"]
    graph.clear_cache()
    graph.invoke({"x": 1})
    assert calls == ["a", "b", "b", "a", "b"]


def test_ttl_expires_entries_by_the_clock() -> None:
    calls: list[str] = []
    clock = Clock()
    graph = chain(calls, InMemoryCache(clock=clock), ttl=10)
    graph.invoke({"x": 0})
    clock.now = 1009.9
    graph.invoke({"x": 0})
    assert calls.count("a") == 1
    clock.now = 1010.0  # written at 1000 with ttl 10: expired
    graph.invoke({"x": 0})
    assert calls.count("a") == 2
    clock.now = 1015.0  # the new entry lives until 1020
    graph.invoke({"x": 0})
    assert calls.count("a") == 2


def test_bad_policies_say_what_is_wrong() -> None:
    with pytest.raises(UsageError, match="key_func must be a function"):
        CachePolicy(key_func="x")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="ttl must be a number of seconds"):
        CachePolicy(ttl="10")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        CachePolicy(5)  # type: ignore[misc]  # keyword-only, as LangGraph's
    with pytest.raises(UsageError, match=r"compile\(cache=...\) takes a rillet cache"):
        StateGraph(State).add_node("a", lambda s: None).add_edge(START, "a").compile(
            cache=object())
    graph = chain([], InMemoryCache(), key_func=lambda s: 42)
    with pytest.raises(TypeError, match="must return str or bytes") as caught:
        graph.invoke({"x": 1})
    assert "While making the cache key of node 'a'" in caught.value.__notes__


# ------------------------------------------------------------ what is cached


def test_routes_are_cached_with_the_writes() -> None:
    """A conditional edge's choice, a Command's goto and Sends are part of the
    cached writes: a hit does not call the path function again (LangGraph's
    behaviour, since its branch writes are task writes)."""
    calls: list[str] = []

    def a(state: State) -> dict[str, Any]:
        calls.append("a")
        return {"log": ["a"]}

    def route(state: State) -> str:
        calls.append("route")
        return "b" if state["x"] > 0 else "c"

    def b(state: State) -> dict[str, Any]:
        calls.append("b")
        return {"log": ["b"]}

    def c(state: State) -> dict[str, Any]:
        calls.append("c")
        return {"log": ["c"]}

    builder = StateGraph(State)
    builder.add_node("a", a, cache_policy=CachePolicy(key_func=lambda s: "k"))
    builder.add_node("b", b)
    builder.add_node("c", c)
    builder.add_edge(START, "a")
    builder.add_conditional_edges("a", route)
    graph = builder.compile(cache=InMemoryCache())
    assert graph.invoke({"x": 1}) == {"x": 1, "log": ["a", "b"]}
    assert graph.invoke({"x": -1}) == {"x": -1, "log": ["a", "b"]}
    assert calls == ["a", "route", "b", "b"]


def test_command_goto_is_cached() -> None:
    calls: list[str] = []

    def cmd(state: State) -> Command[Any]:
        calls.append("cmd")
        return Command(update={"log": ["cmd"]}, goto="c" if state["x"] > 0 else "b")

    def c(state: State) -> dict[str, Any]:
        calls.append("c")
        return {"log": ["c"]}

    builder = StateGraph(State)
    builder.add_node("cmd", cmd, cache_policy=CachePolicy(), destinations=("b", "c"))
    builder.add_node("b", lambda s: {"log": ["b"]})
    builder.add_node("c", c)
    builder.add_edge(START, "cmd")
    graph = builder.compile(cache=InMemoryCache())
    assert graph.invoke({"x": 1}) == {"x": 1, "log": ["cmd", "c"]}
    assert list(graph.stream({"x": 1}, stream_mode="updates")) == [
        {"cmd": {"log": ["cmd"]}, "__metadata__": {"cached": True}},
        {"c": {"log": ["c"]}},
    ]
    assert calls == ["cmd", "c", "c"]


def test_send_tasks_are_cached_by_their_argument() -> None:
    calls: list[int] = []

    def fan(state: State) -> list[Send]:
        return [Send("w", {"x": i, "log": []}) for i in (1, 2, 1)]

    def w(state: State) -> dict[str, Any]:
        calls.append(state["x"])
        return {"log": [state["x"]]}

    builder = StateGraph(State)
    builder.add_node("w", w, cache_policy=CachePolicy())
    builder.add_conditional_edges(START, fan)
    graph = builder.compile(cache=InMemoryCache())
    # One step looks up before any task runs: the second w(1) is a miss too.
    assert graph.invoke({"x": 0}) == {"x": 0, "log": [1, 2, 1]}
    assert calls == [1, 2, 1]
    # LangGraph 1.2.22 gives a key shared by two tasks of one step to one of them and
    # runs the other ([w(1) cached, w(2) cached, w(1) ran]); in rillet both hit.
    assert list(graph.stream({"x": 0}, stream_mode="updates")) == [
        {"w": {"log": [1]}, "__metadata__": {"cached": True}},
        {"w": {"log": [1]}, "__metadata__": {"cached": True}},
        {"w": {"log": [2]}, "__metadata__": {"cached": True}},
    ]
    assert graph.invoke({"x": 0}) == {"x": 0, "log": [1, 2, 1]}
    assert calls == [1, 2, 1]


def test_a_node_returning_none_is_cached() -> None:
    calls: list[str] = []

    def none(state: State) -> None:
        calls.append("none")

    builder = StateGraph(State)
    builder.add_node("n", none, cache_policy=CachePolicy())
    builder.add_edge(START, "n")
    graph = builder.compile(cache=InMemoryCache())
    graph.invoke({"x": 0})
    assert list(graph.stream({"x": 0}, stream_mode="updates")) == [
        {"n": None, "__metadata__": {"cached": True}},
    ]
    assert calls == ["none"]


def test_failures_are_not_cached() -> None:
    calls: list[str] = []

    def flaky(state: State) -> dict[str, Any]:
        calls.append("flaky")
        if len(calls) == 1:
            raise ValueError("boom")
        return {"log": ["ok"]}

    builder = StateGraph(State)
    builder.add_node("f", flaky, cache_policy=CachePolicy())
    builder.add_edge(START, "f")
    graph = builder.compile(cache=InMemoryCache())
    with pytest.raises(ValueError, match="boom"):
        graph.invoke({"x": 0})
    assert graph.invoke({"x": 0}) == {"x": 0, "log": ["ok"]}
    assert graph.invoke({"x": 0}) == {"x": 0, "log": ["ok"]}
    assert calls == ["flaky", "flaky"]


def test_an_interrupted_task_is_cached_once_it_finishes() -> None:
    calls: list[str] = []

    def ask(state: State) -> dict[str, Any]:
        calls.append("ask")
        return {"log": [interrupt("q")]}

    builder = StateGraph(State)
    builder.add_node("q", ask, cache_policy=CachePolicy())
    builder.add_edge(START, "q")
    graph = builder.compile(cache=InMemoryCache(), checkpointer=InMemorySaver())
    one = {"configurable": {"thread_id": "1"}}
    assert graph.invoke({"x": 0}, one)["__interrupt__"][0].value == "q"
    assert graph.invoke(Command(resume="yes"), one) == {"x": 0, "log": ["yes"]}
    assert calls == ["ask", "ask"]
    # Another thread, same input: the answered run's writes, no interrupt.
    two = {"configurable": {"thread_id": "2"}}
    assert list(graph.stream({"x": 0}, two, stream_mode="updates")) == [
        {"q": {"log": ["yes"]}, "__metadata__": {"cached": True}},
    ]
    assert calls == ["ask", "ask"]


def test_a_hit_is_saved_by_the_checkpointer_like_a_run() -> None:
    calls: list[str] = []
    builder = StateGraph(State)
    builder.add_node("a", lambda s: calls.append("a") or {"log": ["a"]},
                     cache_policy=CachePolicy())
    builder.add_edge(START, "a")
    graph = builder.compile(cache=InMemoryCache(), checkpointer=InMemorySaver())
    graph.invoke({"x": 0}, {"configurable": {"thread_id": "1"}})
    two = {"configurable": {"thread_id": "2"}}
    assert graph.invoke({"x": 0}, two) == {"x": 0, "log": ["a"]}
    assert calls == ["a"]
    assert graph.get_state(two).values == {"x": 0, "log": ["a"]}
    history = [(s.metadata["source"], s.metadata["step"]) for s in graph.get_state_history(two)]
    assert history == [("loop", 1), ("loop", 0), ("input", -1)]
    # Thread 1 goes on: the node's input now holds its earlier log, another key.
    assert graph.invoke({"x": 0}, {"configurable": {"thread_id": "1"}}) == {
        "x": 0, "log": ["a", "a"]}
    assert calls == ["a", "a"]


@dataclass
class Point:
    x: int
    y: int


class PointState(TypedDict):
    p: Point


def test_state_classes_come_back_as_themselves_and_as_copies() -> None:
    calls: list[str] = []

    def move(state: PointState) -> dict[str, Any]:
        calls.append("move")
        return {"p": Point(state["p"].x + 1, state["p"].y)}

    builder = StateGraph(PointState)
    builder.add_node("move", move, cache_policy=CachePolicy(key_func=lambda s: "k"))
    builder.add_edge(START, "move")
    graph = builder.compile(cache=InMemoryCache())
    first = graph.invoke({"p": Point(1, 2)})
    second = graph.invoke({"p": Point(1, 2)})
    assert first == second == {"p": Point(2, 2)}
    assert second["p"] is not first["p"]
    second["p"].x = 99  # the cache holds bytes: mutating a result cannot change it
    assert graph.invoke({"p": Point(1, 2)}) == {"p": Point(2, 2)}
    assert calls == ["move"]


# ---------------------------------------------------------------- subgraphs


def test_subgraphs_use_their_own_cache() -> None:
    calls: list[str] = []

    def sa(state: State) -> dict[str, Any]:
        calls.append("sa")
        return {"log": ["sa"]}

    def inner(cache: BaseCache[Any] | None) -> Any:
        sub = StateGraph(State)
        sub.add_node("sa", sa, cache_policy=CachePolicy())
        sub.add_edge(START, "sa")
        return sub.compile(cache=cache)

    # The parent's cache does not reach the subgraph's nodes (as LangGraph).
    parent = StateGraph(State)
    parent.add_node("sub", inner(None))
    parent.add_edge(START, "sub")
    graph = parent.compile(cache=InMemoryCache())
    graph.invoke({"x": 0})
    graph.invoke({"x": 0})
    assert calls == ["sa", "sa"]
    # A subgraph compiled with a cache caches its nodes.
    calls.clear()
    parent = StateGraph(State)
    parent.add_node("sub", inner(InMemoryCache()))
    parent.add_edge(START, "sub")
    graph = parent.compile()
    graph.invoke({"x": 0})
    graph.invoke({"x": 0})
    assert calls == ["sa"]


def test_a_subgraph_node_is_cached_as_a_whole() -> None:
    calls: list[str] = []
    sub = StateGraph(State)
    sub.add_node("sa", lambda s: calls.append("sa") or {"log": ["sa"]})
    sub.add_edge(START, "sa")
    parent = StateGraph(State)
    parent.add_node("sub", sub.compile(), cache_policy=CachePolicy())
    parent.add_edge(START, "sub")
    graph = parent.compile(cache=InMemoryCache())
    assert graph.invoke({"x": 0}) == graph.invoke({"x": 0}) == {"x": 0, "log": ["sa"]}
    assert calls == ["sa"]
    assert list(graph.stream({"x": 0}, stream_mode="updates", subgraphs=True)) == [
        ((), {"sub": {"x": 0, "log": ["sa"]}, "__metadata__": {"cached": True}}),
    ]
    assert list(graph.cache._entries) == [("__pregel_ns_writes", "__dynamic__", "sub")]


# -------------------------------------------------------------------- async


def test_async_runs_share_the_cache_with_sync_runs() -> None:
    calls: list[str] = []

    async def aa(state: State) -> dict[str, Any]:
        calls.append("aa")
        return {"log": ["aa"]}

    builder = StateGraph(State)
    builder.add_node("aa", aa, cache_policy=CachePolicy())
    builder.add_edge(START, "aa")
    graph = builder.compile(cache=InMemoryCache())

    async def main() -> list[Any]:
        first = await graph.ainvoke({"x": 0})
        second = await graph.ainvoke({"x": 0})
        items = [c async for c in graph.astream({"x": 0}, stream_mode="updates")]
        await graph.aclear_cache()
        third = await graph.ainvoke({"x": 0})
        return [first, second, items, third]

    assert asyncio.run(main()) == [
        {"x": 0, "log": ["aa"]},
        {"x": 0, "log": ["aa"]},
        [{"aa": {"log": ["aa"]}, "__metadata__": {"cached": True}}],
        {"x": 0, "log": ["aa"]},
    ]
    assert graph.invoke({"x": 0}) == {"x": 0, "log": ["aa"]}
    assert calls == ["aa", "aa"]


# ------------------------------------------------------------ failing caches


class BrokenCache(InMemoryCache):
    """Raises on the operations named."""

    def __init__(self, *broken: str) -> None:
        super().__init__()
        self.broken = broken

    def get(self, keys: Any) -> Any:
        if "get" in self.broken:
            raise RuntimeError("get down")
        return super().get(keys)

    def set(self, pairs: Any) -> None:
        if "set" in self.broken:
            raise RuntimeError("set down")
        super().set(pairs)


@pytest.mark.parametrize("broken", ["get", "set"])
def test_a_failing_cache_does_not_fail_the_run(
    broken: str, caplog: pytest.LogCaptureFixture
) -> None:
    """LangGraph 1.2.22 raises the cache's error out of the run (sync and async); a
    cache is an optimisation, so rillet runs the node and logs a warning instead."""
    calls: list[str] = []
    graph = chain(calls, BrokenCache(broken))
    with caplog.at_level(logging.WARNING, logger="rillet.cache"):
        assert graph.invoke({"x": 1}) == {"x": 2, "log": ["a", "b"]}
        assert asyncio.run(graph.ainvoke({"x": 1})) == {"x": 2, "log": ["a", "b"]}
    assert calls == ["a", "b", "a", "b"]
    assert [r.getMessage() for r in caplog.records] == (
        ["cache read failed, running the nodes: RuntimeError('get down')"] * 2
        if broken == "get" else ["cache write of node 'a' failed: RuntimeError('set down')"] * 2
    )


def test_an_entry_that_does_not_fit_the_graph_is_a_miss(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []
    cache = InMemoryCache()
    graph = chain(calls, cache)
    graph.invoke({"x": 1})
    ((ns, entries),) = cache._entries.items()
    ((key, _),) = entries.items()
    cache.set({(ns, key): ({"writes": [["no such key", 1]], "goto": []}, None)})
    with caplog.at_level(logging.WARNING, logger="rillet.cache"):
        assert graph.invoke({"x": 1}) == {"x": 2, "log": ["a", "b"]}
    assert calls == ["a", "b", "a", "b"]
    assert caplog.records[0].getMessage() == (
        "cache entry of node 'a' does not fit the graph: a miss")
