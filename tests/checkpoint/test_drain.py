"""Stopping a run at its next checkpoint (``DRAIN_KEY``: what ``rillet serve`` uses to
shut down gracefully): the run returns its state at the checkpoint saved after the
step in flight, its next step not run, and ``invoke(None)`` goes on from there."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from rillet.checkpoint.memory import InMemorySaver
from rillet.graph import START, StateGraph
from rillet.runtime._persist import DRAIN_KEY


class S(TypedDict):
    x: int
    log: str


def _node(name: str) -> Any:
    def node(state: S) -> dict[str, Any]:
        return {"x": state["x"] + 1, "log": state["log"] + name}
    return node


def _chain(*names: str) -> StateGraph:
    builder = StateGraph(S)
    for name in names:
        builder.add_node(name, _node(name))
    for first, then in zip((START, *names), names, strict=False):
        builder.add_edge(first, then)
    return builder


@pytest.mark.parametrize("durability", ["sync", "async", "exit"])
def test_a_run_stops_at_the_checkpoint_after_the_step_in_flight(durability: str) -> None:
    graph = _chain("a", "b", "c").compile(checkpointer=InMemorySaver())
    asked: list[int] = []

    def drain() -> bool:
        asked.append(1)
        return len(asked) == 2  # stop after the second step

    config = {"configurable": {"thread_id": "t", DRAIN_KEY: drain}}
    assert graph.invoke({"x": 0, "log": ""}, config, durability=durability) == {
        "x": 2, "log": "ab"}
    plain = {"configurable": {"thread_id": "t"}}
    state = graph.get_state(plain)
    assert (state.values, state.next, state.interrupts) == ({"x": 2, "log": "ab"}, ("c",), ())
    assert DRAIN_KEY not in state.metadata
    assert graph.invoke(None, plain) == {"x": 3, "log": "abc"}
    assert graph.get_state(plain).next == ()


def test_a_subgraph_is_not_stopped_inside_its_step() -> None:
    inner = _chain("i1", "i2").compile()
    builder = StateGraph(S).add_node("sub", inner).add_node("after", _node("z"))
    graph = builder.add_edge(START, "sub").add_edge("sub", "after").compile(
        checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t", DRAIN_KEY: lambda: True}}
    # the subgraph's two steps run within the root's first step; the root stops after it
    assert graph.invoke({"x": 0, "log": ""}, config) == {"x": 2, "log": "i1i2"}
    plain = {"configurable": {"thread_id": "t"}}
    assert graph.get_state(plain).next == ("after",)
    assert graph.invoke(None, plain) == {"x": 3, "log": "i1i2z"}


async def test_astream_ends_at_the_checkpoint() -> None:
    graph = _chain("a", "b").compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t", DRAIN_KEY: lambda: True}}
    items = [item async for item in graph.astream({"x": 0, "log": ""}, config,
                                                  stream_mode=["updates", "values"])]
    # nothing marks the stop: no __interrupt__ update
    assert items == [("values", {"x": 0, "log": ""}), ("updates", {"a": {"x": 1, "log": "a"}}),
                     ("values", {"x": 1, "log": "a"})]


def test_without_a_checkpointer_there_is_nothing_to_stop_at() -> None:
    graph = _chain("a", "b").compile()
    config = {"configurable": {DRAIN_KEY: lambda: True}}
    assert graph.invoke({"x": 0, "log": ""}, config) == {"x": 2, "log": "ab"}
