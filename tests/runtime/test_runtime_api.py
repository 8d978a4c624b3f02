"""``rillet.runtime``: ``Runtime``, ``get_runtime()`` and ``context=``.

Every expected value here was first printed by the same program run under LangGraph
1.2.22 (imports changed from ``langgraph`` to ``rillet``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from typing import Any, TypedDict

import pytest
from pydantic import BaseModel, ValidationError

from rillet.checkpoint.memory import InMemorySaver
from rillet.config import get_config
from rillet.errors import OutsideRunError, UsageError
from rillet.func import entrypoint, task
from rillet.graph import START, StateGraph
from rillet.runtime import Runtime, get_runtime
from rillet.store.memory import InMemoryStore
from rillet.types import RetryPolicy


class State(TypedDict):
    x: int


@dataclass
class Ctx:
    user: str
    n: int = 1


class CtxDict(TypedDict):
    user: str


class CtxModel(BaseModel):
    user: str
    n: int = 3


seen: list[Any] = []


def record(state: State, runtime: Runtime[Any]) -> dict[str, Any]:
    assert get_runtime() is runtime  # the same object, as in LangGraph
    seen.append(runtime.context)
    return {"x": state["x"] + 1}


def graph_of(schema: Any = None, node: Any = record) -> Any:
    return StateGraph(State, context_schema=schema).add_node("n", node) \
        .add_edge(START, "n").compile()


@pytest.fixture(autouse=True)
def _clear() -> None:
    seen.clear()


def test_runtime_fields_are_langgraphs() -> None:
    assert [f.name for f in dataclasses.fields(Runtime)] == [
        "context", "store", "stream_writer", "heartbeat", "previous", "execution_info",
        "server_info", "control",
    ]
    runtime: Runtime[Ctx] = Runtime(context=Ctx("a"))
    assert runtime.override(previous=1).previous == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        runtime.context = None  # type: ignore[misc]


def test_dataclass_context_from_a_dict_or_an_instance() -> None:
    graph = graph_of(Ctx)
    assert graph.invoke({"x": 1}, context={"user": "u"}) == {"x": 2}
    assert graph.invoke({"x": 1}, context=Ctx("v", 2)) == {"x": 2}
    assert graph.invoke({"x": 1}) == {"x": 2}
    assert seen == [Ctx("u", 1), Ctx("v", 2), None]


def test_typeddict_context_and_no_schema_keep_the_dict() -> None:
    graph_of(CtxDict).invoke({"x": 1}, context={"user": "u"})
    graph_of(CtxDict).invoke({"x": 1}, context={"nope": 1})
    graph_of(None).invoke({"x": 1}, context={"user": "u"})
    assert seen == [{"user": "u"}, {"nope": 1}, {"user": "u"}]


def test_pydantic_context() -> None:
    graph = graph_of(CtxModel)
    graph.invoke({"x": 1}, context={"user": "u"})
    graph.invoke({"x": 1}, context=CtxModel(user="z"))
    assert seen == [CtxModel(user="u", n=3), CtxModel(user="z", n=3)]


def test_non_dict_contexts_are_kept_as_given() -> None:
    graph = graph_of(Ctx)
    for context in ("str", 5, CtxModel(user="p")):
        graph.invoke({"x": 1}, context=context)
    assert seen == ["str", 5, CtxModel(user="p")]


def test_a_dict_that_does_not_fit_a_dataclass_raises_before_the_run() -> None:
    # LangGraph raises the dataclass's own TypeError; UsageError is a TypeError.
    with pytest.raises(UsageError) as caught:
        graph_of(Ctx).invoke({"x": 1}, context={"user": "a", "extra": 1})
    assert isinstance(caught.value, TypeError)
    assert str(caught.value) == (
        "context={'user': 'a', 'extra': 1} does not fit context_schema Ctx: "
        "Ctx.__init__() got an unexpected keyword argument 'extra'. Pass the fields Ctx "
        "declares (user, n)."
    )
    assert seen == []


def test_a_dict_that_does_not_fit_a_pydantic_model_raises_its_validation_error() -> None:
    with pytest.raises(ValidationError) as caught:
        graph_of(CtxModel).invoke({"x": 1}, context={"user": 5})
    assert caught.value.__notes__ == ["While turning context= into context_schema CtxModel"]
    with pytest.raises(ValidationError):
        list(graph_of(CtxModel).stream({"x": 1}, context={"nope": 1}))


def test_get_runtime_outside_a_run() -> None:
    with pytest.raises(OutsideRunError, match=r"get_runtime\(\) was called outside") as caught:
        get_runtime()
    assert isinstance(caught.value, RuntimeError)


def test_runtime_parameter_is_found_by_name() -> None:
    def untyped(state: State, runtime):  # type: ignore[no-untyped-def]
        seen.append(type(runtime).__name__)
        return {}

    graph_of(Ctx, untyped).invoke({"x": 1}, context={"user": "u"})
    assert seen == ["Runtime"]


def test_stream_writer_store_and_the_rest() -> None:
    store = InMemoryStore()

    def write(state: State, runtime: Runtime[Ctx]) -> dict[str, Any]:
        runtime.stream_writer({"hi": runtime.context.user})
        return {"x": 2}

    def look(state: State, runtime: Runtime[Ctx]) -> dict[str, Any]:
        seen.append((runtime.store is store, runtime.heartbeat(), runtime.server_info,
                     runtime.previous))
        return {}

    graph = StateGraph(State, context_schema=Ctx).add_node("w", write).add_node("st", look) \
        .add_edge(START, "w").add_edge("w", "st").compile(store=store)
    items = list(graph.stream({"x": 0}, context={"user": "u"},
                              stream_mode=["custom", "updates"]))
    assert items == [("custom", {"hi": "u"}), ("updates", {"w": {"x": 2}}),
                     ("updates", {"st": None})]
    assert graph.invoke({"x": 0}, context={"user": "u"}) == {"x": 2}
    assert seen == [(True, None, None, None)] * 2


def test_execution_info_counts_attempts() -> None:
    def flaky(state: State, runtime: Runtime[Any]) -> dict[str, Any]:
        info = runtime.execution_info
        assert info is not None
        meta = get_config()["metadata"]
        seen.append((info.node_attempt, info.checkpoint_ns == meta["langgraph_checkpoint_ns"],
                     info.thread_id))
        if info.node_attempt == 1:
            raise ConnectionError("once")
        return {"x": 1}

    graph = StateGraph(State).add_node(
        "flaky", flaky, retry_policy=RetryPolicy(initial_interval=0.01, jitter=False)
    ).add_edge(START, "flaky").compile()
    assert graph.invoke({"x": 0}) == {"x": 1}
    assert seen == [(1, True, None), (2, True, None)]


def test_async_nodes_and_drivers() -> None:
    async def node(state: State, runtime: Runtime[Ctx]) -> dict[str, Any]:
        await asyncio.sleep(0)
        assert get_runtime() is runtime
        runtime.stream_writer(runtime.context.user)
        return {"x": 3}

    graph = graph_of(Ctx, node)

    async def main() -> tuple[Any, Any]:
        out = await graph.ainvoke({"x": 0}, context={"user": "a"})
        items = [c async for c in graph.astream({"x": 0}, context={"user": "b"},
                                                stream_mode="custom")]
        return out, items

    assert asyncio.run(main()) == ({"x": 3}, ["b"])


def test_subgraphs_inherit_the_context_unless_given_one() -> None:
    sub = StateGraph(State).add_node("sn", record).add_edge(START, "sn").compile()

    def caller(state: State, runtime: Runtime[Ctx]) -> Any:
        return sub.invoke(state)

    def override(state: State) -> Any:
        return sub.invoke(state, context={"user": "override"})

    parent = StateGraph(State, context_schema=Ctx).add_node("asnode", sub) \
        .add_node("caller", caller).add_node("override", override) \
        .add_edge(START, "asnode").add_edge("asnode", "caller") \
        .add_edge("caller", "override").compile()
    assert parent.invoke({"x": 0}, context={"user": "parent"}) == {"x": 3}
    assert seen == [Ctx("parent"), Ctx("parent"), {"user": "override"}]


def test_entrypoint_and_task_runtime() -> None:
    @task
    def double(x: int, runtime: Runtime[Ctx]) -> int:
        seen.append(("task", runtime.context, runtime.previous))
        return x * 2

    @entrypoint(checkpointer=InMemorySaver(), context_schema=Ctx)
    def workflow(x: int, *, previous: Any = None, runtime: Runtime[Ctx]) -> int:
        assert get_runtime() is runtime
        seen.append(("entry", runtime.context, runtime.previous, previous))
        return int(double(x).result()) + (previous or 0)

    config = {"configurable": {"thread_id": "1"}}
    assert workflow.invoke(1, config, context={"user": "u"}) == 2
    assert workflow.invoke(2, config, context={"user": "v"}) == 6
    assert seen == [
        ("entry", Ctx("u"), None, None), ("task", Ctx("u"), None),
        ("entry", Ctx("v"), 2, 2), ("task", Ctx("v"), 2),
    ]


def test_entrypoint_without_schema_keeps_the_dict() -> None:
    @entrypoint()
    def workflow(x: int, runtime: Runtime[Any]) -> int:
        seen.append((runtime.context, runtime.previous))
        return x

    assert workflow.invoke(3, context={"a": 1}) == 3
    assert seen == [({"a": 1}, None)]


def test_conditional_edges_take_a_runtime_too() -> None:
    def node(state: State, runtime: Runtime[Ctx]) -> dict[str, Any]:
        seen.append(runtime)
        return {"x": 1}

    def route(state: State, runtime: Runtime[Ctx]) -> str:
        # A node's edges share its task's Runtime, as in LangGraph.
        seen.append((runtime.context, get_runtime() is runtime, runtime is seen[1]))
        return "__end__"

    def start_route(state: State, runtime: Runtime[Ctx]) -> str:
        seen.append(runtime.context)
        return "a"

    graph = StateGraph(State, context_schema=Ctx).add_node("a", node) \
        .add_conditional_edges(START, start_route).add_conditional_edges("a", route).compile()
    assert graph.invoke({"x": 0}, context={"user": "u"}) == {"x": 1}
    assert seen[0] == Ctx("u")  # START's edge runs first
    assert seen[2:] == [(Ctx("u"), True, True)]


def test_stream_events_take_a_context() -> None:
    events = list(graph_of(Ctx).stream_events({"x": 0}, context={"user": "e"}))
    assert events[-1]["event"] == "on_chain_end"
    assert seen == [Ctx("e")]
