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
        assert e["tags"] == ["joke"]
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
