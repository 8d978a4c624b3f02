"""``astream_events`` / ``stream_events`` (v2): LangChain-shaped event dicts."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from rillet.callbacks import adispatch_custom_event, dispatch_custom_event
from rillet.graph import START, StateGraph
from rillet.models import FakeChatModel


class State(TypedDict):
    topic: str
    joke: str


def build(use_async: bool):
    model = FakeChatModel(["hello world"], tags=["joke"])
    if use_async:

        async def refine(state: State) -> dict:
            await adispatch_custom_event("progress", {"pct": 50})
            return {"topic": state["topic"] + "!"}

        async def gen(state: State) -> dict:
            return {"joke": (await model.ainvoke([{"role": "user", "content": "hi"}])).content}
    else:

        def refine(state: State) -> dict:
            dispatch_custom_event("progress", {"pct": 50})
            return {"topic": state["topic"] + "!"}

        def gen(state: State) -> dict:
            return {"joke": model.invoke([{"role": "user", "content": "hi"}]).content}

    return (
        StateGraph(State)
        .add_node("refine", refine)
        .add_node("gen", gen)
        .add_edge(START, "refine")
        .add_edge("refine", "gen")
        .compile()
    )


async def events_of(graph, use_async: bool, **kwargs) -> list[dict[str, Any]]:
    if use_async:
        return [e async for e in graph.astream_events({"topic": "t"}, version="v2", **kwargs)]
    return list(graph.stream_events({"topic": "t"}, version="v2", **kwargs))


@pytest.mark.parametrize("use_async", [False, True])
async def test_event_sequence(use_async: bool) -> None:
    events = await events_of(build(use_async), use_async)
    assert [(e["event"], e["name"]) for e in events] == [
        ("on_chain_start", "LangGraph"),
        ("on_chain_start", "refine"),
        ("on_custom_event", "progress"),
        ("on_chain_stream", "refine"),
        ("on_chain_end", "refine"),
        ("on_chain_stream", "LangGraph"),
        ("on_chain_start", "gen"),
        ("on_chat_model_start", "FakeChatModel"),
        ("on_chat_model_stream", "FakeChatModel"),
        ("on_chat_model_stream", "FakeChatModel"),
        ("on_chat_model_end", "FakeChatModel"),
        ("on_chain_stream", "gen"),
        ("on_chain_end", "gen"),
        ("on_chain_stream", "LangGraph"),
        ("on_chain_end", "LangGraph"),
    ]
    graph_id = events[0]["run_id"]
    gen_start = events[6]
    model_events = events[7:11]
    assert events[0]["parent_ids"] == [] and events[0]["data"] == {"input": {"topic": "t"}}
    assert events[1]["parent_ids"] == [graph_id] and events[1]["tags"] == ["graph:step:1"]
    assert events[2]["data"] == {"pct": 50} and events[2]["run_id"] == events[1]["run_id"]
    assert events[4]["data"] == {"output": {"topic": "t!"}, "input": {"topic": "t"}}
    assert events[5]["data"] == {"chunk": {"refine": {"topic": "t!"}}}
    for e in model_events:
        assert e["parent_ids"] == [graph_id, gen_start["run_id"]]
        assert e["tags"] == ["seq:step:1", "joke"]  # as LangGraph 1.2.22
        assert e["metadata"]["langgraph_node"] == "gen"
        assert e["metadata"]["ls_provider"] == "fake"
    assert [m.content for m in model_events[0]["data"]["input"]["messages"][0]] == ["hi"]
    assert [e["data"]["chunk"].content for e in model_events[1:3]] == ["hello", " world"]
    assert model_events[3]["data"]["output"].content == "hello world"
    assert events[-1]["data"] == {"output": {"topic": "t!", "joke": "hello world"}}
    for e in events:
        assert set(e) == {"event", "name", "run_id", "parent_ids", "tags", "metadata", "data"}


@pytest.mark.parametrize("use_async", [False, True])
async def test_filters(use_async: bool) -> None:
    events = await events_of(build(use_async), use_async, include_types=["chat_model"])
    assert {e["event"] for e in events} == {
        "on_chat_model_start", "on_chat_model_stream", "on_chat_model_end"
    }
    events = await events_of(build(use_async), use_async, include_names=["refine"])
    assert [e["event"] for e in events] == ["on_chain_start", "on_chain_stream", "on_chain_end"]
    events = await events_of(build(use_async), use_async, include_tags=["joke"])
    assert len(events) == 4
    events = await events_of(build(use_async), use_async, exclude_types=["chain"])
    assert next(e["event"] for e in events) == "on_custom_event"


async def test_subgraph_events_are_included() -> None:
    class S(TypedDict):
        foo: str

    inner = StateGraph(S).add_node("leaf", lambda s: {"foo": s["foo"] + "!"})
    sub = inner.add_edge(START, "leaf").compile(name="inner")
    outer = StateGraph(S).add_node("middle", sub).add_edge(START, "middle").compile()
    events = [e async for e in outer.astream_events({"foo": "x"}, version="v2")]
    names = [(e["event"], e["name"]) for e in events]
    assert ("on_chain_start", "leaf") in names and ("on_chain_start", "inner") in names
    leaf = next(e for e in events if e["name"] == "leaf")
    assert len(leaf["parent_ids"]) == 3  # outer graph, middle task, inner graph


def test_only_v2_is_supported() -> None:
    with pytest.raises(ValueError, match="version='v2'"):
        build(False).stream_events({"topic": "t"}, version="v1")


class X(TypedDict):
    x: int


def nested_graph():
    inner = StateGraph(X).add_node("step", lambda s: {"x": s["x"] + 1})
    sub = inner.add_edge(START, "step").compile()
    return (StateGraph(X).add_node("sub", sub).add_node("last", lambda s: {"x": s["x"] + 1})
            .add_edge(START, "sub").add_edge("sub", "last").compile())


def chain_view(events: list[dict[str, Any]], ids: dict[str, str]) -> list[tuple[Any, ...]]:
    """(event, name, tags, data) with run ids named in order of appearance."""
    def named(value: Any) -> Any:
        if isinstance(value, str) and value in ids:
            return ids[value]
        if isinstance(value, list | tuple):
            return [named(v) for v in value]
        return value

    for e in events:
        ids.setdefault(e["run_id"], f"<run {len(ids)}>")
    return [(e["event"], e["name"], e["tags"], named(e["data"])) for e in events]


@pytest.mark.parametrize("use_async", [False, True])
async def test_stream_modes_ride_on_the_root_chain(use_async: bool) -> None:
    """``stream_mode``/``subgraphs``: the root chain's ``on_chain_stream`` events carry
    what ``astream`` would yield (checked against LangGraph 1.2.22's astream_events with
    the same arguments), and the graph run inside ``sub`` sends no chunks of its own."""
    graph = nested_graph()
    kwargs = {"stream_mode": ["values", "updates"], "subgraphs": True,
              "config": {"run_id": "1d8c6a4e-0000-4000-8000-000000000001"}}
    if use_async:
        events = [e async for e in graph.astream_events({"x": 0}, **kwargs)]
    else:
        events = list(graph.stream_events({"x": 0}, **kwargs))
    root = [e for e in events if e["event"] == "on_chain_stream" and not e["parent_ids"]]
    sub_ns = root[1]["data"]["chunk"][0]
    assert [e["data"]["chunk"] for e in root] == [
        ((), "values", {"x": 0}),
        (sub_ns, "values", {"x": 0}),
        (sub_ns, "updates", {"step": {"x": 1}}),
        (sub_ns, "values", {"x": 1}),
        ((), "updates", {"sub": {"x": 1}}),
        ((), "values", {"x": 1}),
        ((), "updates", {"last": {"x": 2}}),
        ((), "values", {"x": 2}),
    ]
    assert {e["run_id"] for e in root} == {"1d8c6a4e-0000-4000-8000-000000000001"}
    others = [e for e in events if e not in root]
    assert [(e, n, t, d) for e, n, t, d in chain_view(others, {})] == [
        ("on_chain_start", "LangGraph", [], {"input": {"x": 0}}),
        ("on_chain_start", "sub", ["graph:step:1"], {"input": {"x": 0}}),
        ("on_chain_start", "LangGraph", ["seq:step:1"], {"input": {"x": 0}}),
        ("on_chain_start", "step", ["graph:step:1"], {"input": {"x": 0}}),
        ("on_chain_stream", "step", ["graph:step:1"], {"chunk": {"x": 1}}),
        ("on_chain_end", "step", ["graph:step:1"], {"output": {"x": 1}, "input": {"x": 0}}),
        ("on_chain_end", "LangGraph", ["seq:step:1"], {"output": {"x": 1}, "input": {"x": 0}}),
        ("on_chain_stream", "sub", ["graph:step:1"], {"chunk": {"x": 1}}),
        ("on_chain_end", "sub", ["graph:step:1"], {"output": {"x": 1}, "input": {"x": 0}}),
        ("on_chain_start", "last", ["graph:step:2"], {"input": {"x": 1}}),
        ("on_chain_stream", "last", ["graph:step:2"], {"chunk": {"x": 2}}),
        ("on_chain_end", "last", ["graph:step:2"], {"output": {"x": 2}, "input": {"x": 1}}),
        ("on_chain_end", "LangGraph", [], {"output": {"x": 2}}),
    ]


async def test_chain_tags_and_metadata_are_langgraphs() -> None:
    """As LangGraph 1.2.22: the root chain's metadata has the run's ids copied in and
    ``ls_integration``; a node's tags put its step first; a subgraph node's chain has the
    node's metadata and ``checkpoint_ns``."""
    config = {"tags": ["t1"], "metadata": {"m": 1}, "configurable": {"thread_id": "T"}}
    events = [e async for e in nested_graph().astream_events({"x": 0}, config)]
    root, sub, inner = events[0], events[1], events[2]
    assert root["metadata"] == {"m": 1, "thread_id": "T", "ls_integration": "langgraph"}
    assert root["tags"] == ["t1"]
    assert sub["tags"] == ["graph:step:1", "t1"]
    assert (inner["name"], inner["tags"]) == ("LangGraph", ["seq:step:1", "t1"])
    assert inner["metadata"] == {**sub["metadata"],
                                 "checkpoint_ns": sub["metadata"]["langgraph_checkpoint_ns"]}
    assert [e["event"] for e in events if e["name"] == "LangGraph"] == [
        "on_chain_start", "on_chain_start", "on_chain_end", "on_chain_stream",
        "on_chain_stream", "on_chain_end"]


async def test_events_with_other_modes_keep_langgraphs_order() -> None:
    graph = nested_graph()
    events = [e async for e in graph.astream_events({"x": 0}, stream_mode="updates")]
    # a node's end comes before the update the root chain carries
    names = [(e["event"], e["name"]) for e in events if not e["parent_ids"] or
             e["name"] == "last"]
    assert names[-5:] == [("on_chain_start", "last"), ("on_chain_stream", "last"),
                          ("on_chain_end", "last"), ("on_chain_stream", "LangGraph"),
                          ("on_chain_end", "LangGraph")]
    assert events[-2]["data"] == {"chunk": {"last": {"x": 2}}}


def test_bad_stream_mode_in_events_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown stream mode 'bogus'"):
        nested_graph().stream_events({"x": 0}, stream_mode=["bogus"])
