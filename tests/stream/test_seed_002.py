"""The examples of seed 002 ("Stream outputs") that need no LLM, with imports changed.

Expected outputs are LangGraph 1.2.22's, with task ids and timestamps scrubbed.
"""

from __future__ import annotations

from typing import TypedDict

import pytest

from rillet.config import get_stream_writer
from rillet.graph import START, StateGraph
from rillet.types import StreamWriter
from tests.conftest import scrub


class State(TypedDict):
    topic: str
    joke: str


def refine_topic(state: State):
    return {"topic": state["topic"] + " and cats"}


def generate_joke(state: State):
    return {"joke": f"This is a joke about {state['topic']}"}


graph = (
    StateGraph(State)
    .add_node(refine_topic)
    .add_node(generate_joke)
    .add_edge(START, "refine_topic")
    .add_edge("refine_topic", "generate_joke")
    .compile()
)


def generate_joke_w(state: State, writer: StreamWriter):
    writer({"custom_key": "Writing custom data while generating a joke"})
    return {"joke": f"This is a joke about {state['topic']}"}


graph_w = (
    StateGraph(State)
    .add_node(refine_topic)
    .add_node("generate_joke", generate_joke_w)
    .add_edge(START, "refine_topic")
    .add_edge("refine_topic", "generate_joke")
    .compile()
)

TASK_1 = {
    "id": "<id>",
    "name": "refine_topic",
    "input": {"topic": "ice cream"},
    "triggers": ("branch:to:refine_topic",),
}
RESULT_1 = {
    "id": "<id>",
    "name": "refine_topic",
    "error": None,
    "result": {"topic": "ice cream and cats"},
    "interrupts": [],
}
TASK_2 = {
    "id": "<id>",
    "name": "generate_joke",
    "input": {"topic": "ice cream and cats"},
    "triggers": ("branch:to:generate_joke",),
}
RESULT_2 = {
    "id": "<id>",
    "name": "generate_joke",
    "error": None,
    "result": {"joke": "This is a joke about ice cream and cats"},
    "interrupts": [],
}
FINAL = {"topic": "ice cream and cats", "joke": "This is a joke about ice cream and cats"}


def debug(step: int, kind: str, payload: dict) -> dict:
    return {"step": step, "timestamp": "<ts>", "type": kind, "payload": payload}


EXPECTED = {
    "values": [{"topic": "ice cream"}, {"topic": "ice cream and cats"}, FINAL],
    "updates": [
        {"refine_topic": {"topic": "ice cream and cats"}},
        {"generate_joke": {"joke": "This is a joke about ice cream and cats"}},
    ],
    "debug": [
        debug(1, "task", TASK_1),
        debug(1, "task_result", RESULT_1),
        debug(2, "task", TASK_2),
        debug(2, "task_result", RESULT_2),
    ],
    "tasks": [TASK_1, RESULT_1, TASK_2, RESULT_2],
}


async def collect(g, inputs, use_async: bool, **kwargs):
    if use_async:
        return [chunk async for chunk in g.astream(inputs, **kwargs)]
    return list(g.stream(inputs, **kwargs))


@pytest.fixture(params=["sync", "async"])
def use_async(request) -> bool:
    return request.param == "async"


@pytest.mark.parametrize("mode", ["values", "updates", "debug", "tasks"])
async def test_each_mode(mode: str, use_async: bool) -> None:
    chunks = await collect(graph, {"topic": "ice cream"}, use_async, stream_mode=mode)
    assert scrub(chunks) == EXPECTED[mode]


async def test_default_mode_is_updates(use_async: bool) -> None:
    chunks = await collect(graph, {"topic": "ice cream"}, use_async)
    assert chunks == EXPECTED["updates"]


async def test_task_ids_match_between_task_and_result(use_async: bool) -> None:
    chunks = await collect(graph, {"topic": "ice cream"}, use_async, stream_mode="tasks")
    assert chunks[0]["id"] == chunks[1]["id"] != chunks[2]["id"] == chunks[3]["id"]


async def test_custom_mode(use_async: bool) -> None:
    chunks = await collect(graph_w, {"topic": "ice cream"}, use_async, stream_mode="custom")
    assert chunks == [{"custom_key": "Writing custom data while generating a joke"}]


async def test_custom_mode_empty_without_writes(use_async: bool) -> None:
    assert await collect(graph, {"topic": "ice cream"}, use_async, stream_mode="custom") == []


async def test_several_modes(use_async: bool) -> None:
    chunks = await collect(
        graph_w, {"topic": "ice cream"}, use_async, stream_mode=["updates", "custom"]
    )
    assert chunks == [
        ("updates", {"refine_topic": {"topic": "ice cream and cats"}}),
        ("custom", {"custom_key": "Writing custom data while generating a joke"}),
        ("updates", {"generate_joke": {"joke": "This is a joke about ice cream and cats"}}),
    ]


async def test_one_mode_in_a_list_is_labelled(use_async: bool) -> None:
    chunks = await collect(graph_w, {"topic": "ice cream"}, use_async, stream_mode=["custom"])
    assert chunks == [("custom", {"custom_key": "Writing custom data while generating a joke"})]


async def test_modes_interleave_in_step_order(use_async: bool) -> None:
    chunks = await collect(
        graph, {"topic": "ice cream"}, use_async, stream_mode=["values", "updates", "debug"]
    )
    assert scrub(chunks) == [
        ("values", {"topic": "ice cream"}),
        ("debug", debug(1, "task", TASK_1)),
        ("updates", {"refine_topic": {"topic": "ice cream and cats"}}),
        ("debug", debug(1, "task_result", RESULT_1)),
        ("values", {"topic": "ice cream and cats"}),
        ("debug", debug(2, "task", TASK_2)),
        ("updates", {"generate_joke": {"joke": "This is a joke about ice cream and cats"}}),
        ("debug", debug(2, "task_result", RESULT_2)),
        ("values", FINAL),
    ]


async def test_tasks_and_debug_together(use_async: bool) -> None:
    chunks = await collect(
        graph, {"topic": "ice cream"}, use_async, stream_mode=["tasks", "debug"]
    )
    assert scrub(chunks[:2]) == [("tasks", TASK_1), ("debug", debug(1, "task", TASK_1))]
    assert len(chunks) == 8


def test_invoke() -> None:
    assert graph.invoke({"topic": "ice cream"}) == FINAL
    assert graph_w.invoke({"topic": "ice cream"}) == FINAL


async def test_ainvoke() -> None:
    assert await graph.ainvoke({"topic": "ice cream"}) == FINAL


def test_invoke_with_another_stream_mode_returns_the_items() -> None:
    assert graph.invoke({"topic": "ice cream"}, stream_mode="updates") == EXPECTED["updates"]


# ------------------------------------------------------------------ subgraphs


class SubgraphState(TypedDict):
    foo: str  # note that this key is shared with the parent graph state
    bar: str


def subgraph_node_1(state: SubgraphState):
    return {"bar": "bar"}


def subgraph_node_2(state: SubgraphState):
    return {"foo": state["foo"] + state["bar"]}


subgraph_builder = StateGraph(SubgraphState)
subgraph_builder.add_node(subgraph_node_1)
subgraph_builder.add_node(subgraph_node_2)
subgraph_builder.add_edge(START, "subgraph_node_1")
subgraph_builder.add_edge("subgraph_node_1", "subgraph_node_2")
subgraph = subgraph_builder.compile()


class ParentState(TypedDict):
    foo: str


def node_1(state: ParentState):
    return {"foo": "hi! " + state["foo"]}


builder = StateGraph(ParentState)
builder.add_node("node_1", node_1)
builder.add_node("node_2", subgraph)
builder.add_edge(START, "node_1")
builder.add_edge("node_1", "node_2")
parent_graph = builder.compile()
NS = ("node_2:<id>",)


async def test_subgraph_updates_hidden_by_default(use_async: bool) -> None:
    chunks = await collect(parent_graph, {"foo": "foo"}, use_async, stream_mode="updates")
    assert chunks == [{"node_1": {"foo": "hi! foo"}}, {"node_2": {"foo": "hi! foobar"}}]


async def test_subgraph_updates(use_async: bool) -> None:
    chunks = await collect(
        parent_graph, {"foo": "foo"}, use_async, stream_mode="updates", subgraphs=True
    )
    assert scrub(chunks) == [
        ((), {"node_1": {"foo": "hi! foo"}}),
        (NS, {"subgraph_node_1": {"bar": "bar"}}),
        (NS, {"subgraph_node_2": {"foo": "hi! foobar"}}),
        ((), {"node_2": {"foo": "hi! foobar"}}),
    ]


async def test_subgraph_default_mode(use_async: bool) -> None:
    chunks = await collect(parent_graph, {"foo": "foo"}, use_async, subgraphs=True)
    assert len(chunks) == 4 and chunks[1][0] == chunks[2][0]


async def test_subgraph_values_and_updates(use_async: bool) -> None:
    chunks = await collect(
        parent_graph, {"foo": "foo"}, use_async, stream_mode=["updates", "values"],
        subgraphs=True,
    )
    assert scrub(chunks) == [
        ((), "values", {"foo": "foo"}),
        ((), "updates", {"node_1": {"foo": "hi! foo"}}),
        ((), "values", {"foo": "hi! foo"}),
        (NS, "values", {"foo": "hi! foo"}),
        (NS, "updates", {"subgraph_node_1": {"bar": "bar"}}),
        (NS, "values", {"foo": "hi! foo", "bar": "bar"}),
        (NS, "updates", {"subgraph_node_2": {"foo": "hi! foobar"}}),
        (NS, "values", {"foo": "hi! foobar", "bar": "bar"}),
        ((), "updates", {"node_2": {"foo": "hi! foobar"}}),
        ((), "values", {"foo": "hi! foobar"}),
    ]


async def test_subgraph_namespace_is_the_parent_task_id(use_async: bool) -> None:
    chunks = await collect(
        parent_graph, {"foo": "foo"}, use_async, stream_mode="tasks", subgraphs=True
    )
    node_2_task = next(c for ns, c in chunks if ns == () and c["name"] == "node_2")
    inner = [ns for ns, _ in chunks if ns != ()]
    assert inner and set(inner) == {(f"node_2:{node_2_task['id']}",)}


def test_subgraph_invoke() -> None:
    assert parent_graph.invoke({"foo": "foo"}) == {"foo": "hi! foobar"}


def _custom_subgraph():
    def sub_w1(state: SubgraphState, writer: StreamWriter):
        writer({"from": "sub_w1"})
        return {"bar": "bar"}

    def sub_w2(state: SubgraphState):
        get_stream_writer()({"from": "sub_w2"})
        return {"foo": state["foo"] + state["bar"]}

    sub = (
        StateGraph(SubgraphState)
        .add_sequence([sub_w1, sub_w2])
        .add_edge(START, "sub_w1")
        .compile()
    )

    def parent_1(state: ParentState, writer: StreamWriter):
        writer({"from": "parent"})
        return {"foo": "hi! " + state["foo"]}

    return (
        StateGraph(ParentState)
        .add_node("node_1", parent_1)
        .add_node("node_2", sub)
        .add_edge(START, "node_1")
        .add_edge("node_1", "node_2")
        .compile()
    )


async def test_subgraph_custom_only_with_subgraphs(use_async: bool) -> None:
    g = _custom_subgraph()
    assert await collect(g, {"foo": "foo"}, use_async, stream_mode="custom") == [
        {"from": "parent"}
    ]
    chunks = await collect(
        g, {"foo": "foo"}, use_async, stream_mode=["updates", "custom"], subgraphs=True
    )
    assert scrub(chunks) == [
        ((), "custom", {"from": "parent"}),
        ((), "updates", {"node_1": {"foo": "hi! foo"}}),
        (NS, "custom", {"from": "sub_w1"}),
        (NS, "updates", {"sub_w1": {"bar": "bar"}}),
        (NS, "custom", {"from": "sub_w2"}),
        (NS, "updates", {"sub_w2": {"foo": "hi! foobar"}}),
        ((), "updates", {"node_2": {"foo": "hi! foobar"}}),
    ]


async def test_three_levels_of_nesting(use_async: bool) -> None:
    class S(TypedDict):
        foo: str

    leaf = StateGraph(S).add_node("leaf", lambda s: {"foo": s["foo"] + "!"})
    inner = leaf.add_edge(START, "leaf").compile()
    middle = StateGraph(S).add_node("inner", inner).add_edge(START, "inner").compile()
    outer = StateGraph(S).add_node("middle", middle).add_edge(START, "middle").compile()
    chunks = await collect(outer, {"foo": "x"}, use_async, stream_mode="updates", subgraphs=True)
    assert scrub(chunks) == [
        (("middle:<id>", "inner:<id>"), {"leaf": {"foo": "x!"}}),
        (("middle:<id>",), {"inner": {"foo": "x!"}}),
        ((), {"middle": {"foo": "x!"}}),
    ]
