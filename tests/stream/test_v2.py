"""``version="v2"``: typed stream parts and ``GraphOutput``.

Every expected output below is what LangGraph 1.2.22 printed for the same program
(task ids shown as ``<id>``, interrupt ids as ``<iid>``: both are random or hashed
differently in LangGraph), except where a test says it departs on purpose.
"""

from __future__ import annotations

import asyncio
import dataclasses
import operator
import warnings
from typing import Annotated, Any, TypedDict

import pydantic
import pytest

from rillet.checkpoint.memory import InMemorySaver
from rillet.config import get_stream_writer
from rillet.errors import ConfigError
from rillet.func import entrypoint, task
from rillet.graph import START, StateGraph
from rillet.models import FakeChatModel
from rillet.types import Command, GraphOutput, Interrupt, interrupt
from tests.conftest import scrub

SUB = ("sub:<id>",)


class S(TypedDict):
    x: Annotated[list, operator.add]


def node_a(s: S) -> dict:
    get_stream_writer()("hi")
    return {"x": ["a"]}


def node_b(s: S) -> dict:
    return {"x": ["b"]}


def sub_a(s: S) -> dict:
    get_stream_writer()({"sub": 1})
    return {"x": ["sa"]}


def ask(s: S) -> dict:
    return {"x": [interrupt("q?")]}


def boom(s: S) -> dict:
    raise ValueError("boom")


def _graph(*nodes: tuple[str, Any], checkpointer: Any = None) -> Any:
    builder = StateGraph(S)
    previous = START
    for name, fn in nodes:
        builder.add_node(name, fn)
        builder.add_edge(previous, name)
        previous = name
    return builder.compile(checkpointer=checkpointer)


SUBGRAPH = _graph(("sa", sub_a))
GRAPH = _graph(("a", node_a), ("sub", SUBGRAPH), ("b", node_b))


def asking(checkpointer: Any = None) -> Any:
    return _graph(("a", node_a), ("ask", ask), checkpointer=checkpointer or InMemorySaver())


def thread(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def norm(value: Any) -> Any:
    """``scrub``, and interrupt ids as ``<iid>``."""
    if isinstance(value, Interrupt):
        return Interrupt(value.value, "<iid>")
    if isinstance(value, GraphOutput):
        return GraphOutput(norm(value.value), norm(value.interrupts))
    if isinstance(value, tuple):
        return tuple(norm(v) for v in value)
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"value", "id", "response_schema"}:  # an interrupt as data
            return {**value, "id": "<iid>"}
        return {k: "<ts>" if k == "timestamp" else norm(v) for k, v in value.items()}
    return scrub(value)


def pause(value: str = "q?") -> tuple[Interrupt, ...]:
    return (Interrupt(value, "<iid>"),)


def values(data: Any, ns: tuple[str, ...] = (), interrupts: tuple = ()) -> dict[str, Any]:
    return {"type": "values", "ns": ns, "data": data, "interrupts": interrupts}


def part(mode: str, data: Any, ns: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": mode, "ns": ns, "data": data}


def run(graph: Any, inputs: Any, use_async: bool, config: Any = None, **kwargs: Any) -> list:
    kwargs.setdefault("version", "v2")
    if not use_async:
        return norm(list(graph.stream(inputs, config, **kwargs)))

    async def collect() -> list:
        return [p async for p in graph.astream(inputs, config, **kwargs)]

    return norm(asyncio.run(collect()))


def invoke(graph: Any, inputs: Any, use_async: bool, config: Any = None, **kwargs: Any) -> Any:
    kwargs.setdefault("version", "v2")
    if use_async:
        return norm(asyncio.run(graph.ainvoke(inputs, config, **kwargs)))
    return norm(graph.invoke(inputs, config, **kwargs))


@pytest.fixture(params=["sync", "async"])
def use_async(request: pytest.FixtureRequest) -> bool:
    return request.param == "async"


# ---------------------------------------------------------------- stream parts

UPDATES = [
    part("updates", {"a": {"x": ["a"]}}),
    part("updates", {"sub": {"x": ["a", "sa"]}}),
    part("updates", {"b": {"x": ["b"]}}),
]


@pytest.mark.parametrize("mode", ["updates", None])
def test_updates_parts_always_carry_the_namespace(mode: Any, use_async: bool) -> None:
    kwargs = {} if mode is None else {"stream_mode": mode}
    assert run(GRAPH, {"x": []}, use_async, **kwargs) == UPDATES
    assert run(GRAPH, {"x": []}, use_async, subgraphs=True, **kwargs) == [
        UPDATES[0], part("updates", {"sa": {"x": ["sa"]}}, SUB), *UPDATES[1:]
    ]


def test_values_parts(use_async: bool) -> None:
    top = [
        values({"x": []}),
        values({"x": ["a"]}),
        values({"x": ["a", "a", "sa"]}),
        values({"x": ["a", "a", "sa", "b"]}),
    ]
    assert run(GRAPH, {"x": []}, use_async, stream_mode="values") == top
    assert run(GRAPH, {"x": []}, use_async, stream_mode="values", subgraphs=True) == [
        *top[:2], values({"x": ["a"]}, SUB), values({"x": ["a", "sa"]}, SUB), *top[2:]
    ]


def test_keys_come_in_langgraphs_order() -> None:
    parts = list(GRAPH.stream({"x": []}, stream_mode=["values", "updates", "custom"],
                              version="v2"))
    assert {p["type"]: list(p) for p in parts} == {
        "values": ["type", "ns", "data", "interrupts"],
        "updates": ["type", "ns", "data"],
        "custom": ["type", "ns", "data"],
    }


def test_custom_parts(use_async: bool) -> None:
    assert run(GRAPH, {"x": []}, use_async, stream_mode="custom") == [part("custom", "hi")]
    assert run(GRAPH, {"x": []}, use_async, stream_mode="custom", subgraphs=True) == [
        part("custom", "hi"), part("custom", {"sub": 1}, SUB)
    ]


def test_a_list_of_modes_gives_the_same_parts_interleaved(use_async: bool) -> None:
    assert run(GRAPH, {"x": []}, use_async, stream_mode=["values", "updates"],
               subgraphs=True) == [
        values({"x": []}),
        part("updates", {"a": {"x": ["a"]}}),
        values({"x": ["a"]}),
        values({"x": ["a"]}, SUB),
        part("updates", {"sa": {"x": ["sa"]}}, SUB),
        values({"x": ["a", "sa"]}, SUB),
        part("updates", {"sub": {"x": ["a", "sa"]}}),
        values({"x": ["a", "a", "sa"]}),
        part("updates", {"b": {"x": ["b"]}}),
        values({"x": ["a", "a", "sa", "b"]}),
    ]


def test_tasks_debug_and_checkpoints_parts_wrap_the_v1_items(use_async: bool) -> None:
    # LangGraph 1.2.22: the v2 data of these modes is exactly the v1 item.
    for mode in ("tasks", "debug", "checkpoints"):
        v1 = run(asking(), {"x": []}, use_async, thread(mode), stream_mode=mode, version="v1")
        v2 = run(asking(), {"x": []}, use_async, thread(mode), stream_mode=mode)
        assert v2 == [part(mode, item) for item in v1]
    graph = asking()
    assert run(graph, {"x": []}, use_async, thread("t"), stream_mode="tasks")[:2] == [
        part("tasks", {"id": "<id>", "name": "a", "input": {"x": []},
                       "triggers": ("branch:to:a",)}),
        part("tasks", {"id": "<id>", "name": "a", "error": None, "result": {"x": ["a"]},
                       "interrupts": []}),
    ]


def test_messages_parts_wrap_chunk_and_metadata(use_async: bool) -> None:
    model = FakeChatModel(responses=["a b"] * 4)

    def call(s: dict) -> dict:
        return {"t": model.invoke("hi").content}

    class T(TypedDict):
        t: str

    sub = StateGraph(T).add_node("call", call).add_edge(START, "call").compile()
    graph = StateGraph(T).add_node("sub", sub).add_edge(START, "sub").compile()
    v1 = run(graph, {"t": ""}, use_async, stream_mode="messages", subgraphs=True,
             version="v1")
    v2 = run(graph, {"t": ""}, use_async, stream_mode="messages", subgraphs=True)
    assert [p["type"] for p in v2] == ["messages", "messages"]
    assert [list(p) for p in v2] == [["type", "ns", "data"]] * 2
    assert [(p["ns"], p["data"][0].content, p["data"][1]) for p in v2] == [
        (ns, chunk.content, metadata) for ns, (chunk, metadata) in v1
    ]
    assert [p["ns"] for p in v2] == [SUB, SUB]


# ---------------------------------------------------------------- interrupts

def test_interrupts_in_values_and_updates_parts(use_async: bool) -> None:
    graph = asking()
    cfg = thread("i")
    assert run(graph, {"x": []}, use_async, cfg, stream_mode=["values", "updates"]) == [
        values({"x": []}),
        part("updates", {"a": {"x": ["a"]}}),
        values({"x": ["a"]}),
        part("updates", {"__interrupt__": pause()}),
        values({"x": ["a"]}, interrupts=pause()),
    ]
    assert run(graph, Command(resume="ans"), use_async, cfg,
               stream_mode=["values", "updates"]) == [
        values({"x": ["a"]}),
        part("updates", {"ask": {"x": ["ans"]}}),
        values({"x": ["a", "ans"]}),
    ]


def test_a_subgraph_interrupt_shows_at_both_levels(use_async: bool) -> None:
    inner = _graph(("ask", ask))
    graph = _graph(("a", node_a), ("sub", inner), checkpointer=InMemorySaver())
    cfg = thread("sub")
    modes = ["values", "updates"]
    assert run(graph, {"x": []}, use_async, cfg, stream_mode=modes, subgraphs=True) == [
        values({"x": []}),
        part("updates", {"a": {"x": ["a"]}}),
        values({"x": ["a"]}),
        values({"x": ["a"]}, SUB),
        part("updates", {"__interrupt__": pause()}, SUB),
        values({"x": ["a"]}, SUB, pause()),
        part("updates", {"__interrupt__": pause()}),
        values({"x": ["a"]}, interrupts=pause()),
    ]
    assert run(graph, Command(resume="r"), use_async, cfg, stream_mode=modes,
               subgraphs=True) == [
        values({"x": ["a"]}),
        values({"x": ["a"]}, SUB),
        part("updates", {"ask": {"x": ["r"]}}, SUB),
        values({"x": ["a", "r"]}, SUB),
        part("updates", {"sub": {"x": ["a", "r"]}}),
        values({"x": ["a", "a", "r"]}),
    ]


def test_interrupt_before_gives_an_empty_interrupt_update(use_async: bool) -> None:
    graph = asking()
    assert run(graph, {"x": []}, use_async, thread("b"), stream_mode=["values", "updates"],
               interrupt_before=["ask"]) == [
        values({"x": []}),
        part("updates", {"a": {"x": ["a"]}}),
        values({"x": ["a"]}),
        part("updates", {"__interrupt__": ()}),
    ]


# ---------------------------------------------------------------- GraphOutput

def test_invoke_v2_returns_graph_output(use_async: bool) -> None:
    assert invoke(GRAPH, {"x": []}, use_async) == GraphOutput({"x": ["a", "a", "sa", "b"]})
    graph = asking()
    cfg = thread("inv")
    assert invoke(graph, {"x": []}, use_async, cfg) == GraphOutput({"x": ["a"]}, pause())
    assert invoke(graph, Command(resume="z"), use_async, cfg) == GraphOutput({"x": ["a", "z"]})
    assert invoke(asking(), {"x": []}, use_async, thread("before"),
                  interrupt_before=["ask"]) == GraphOutput({"x": ["a"]})


def test_invoke_v2_with_other_stream_modes_returns_the_parts(use_async: bool) -> None:
    assert invoke(GRAPH, {"x": []}, use_async, stream_mode="updates") == UPDATES
    assert invoke(GRAPH, {"x": []}, use_async, stream_mode=["values", "custom"]) == [
        values({"x": []}),
        part("custom", "hi"),
        values({"x": ["a"]}),
        values({"x": ["a", "a", "sa"]}),
        values({"x": ["a", "a", "sa", "b"]}),
    ]
    assert invoke(asking(), {"x": []}, use_async, thread("l"), stream_mode=["values"]) == [
        values({"x": []}), values({"x": ["a"]}), values({"x": ["a"]}, interrupts=pause())
    ]


def test_graph_output_repr_and_v1_style_access() -> None:
    out = GraphOutput({"x": [1]}, (Interrupt("v", "i"),))
    assert repr(out) == (
        "GraphOutput(value={'x': [1]}, interrupts=(Interrupt(value='v', id='i', "
        "response_schema=None),))"
    )
    with pytest.warns(DeprecationWarning, match="result.value"):
        assert out["x"] == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert out["__interrupt__"] == (Interrupt("v", "i"),)
        assert "__interrupt__" in out and "x" in out and "y" not in out
        assert "__interrupt__" not in GraphOutput({"x": 1})
        assert GraphOutput({"x": 1})["__interrupt__"] == ()
        assert "x" not in GraphOutput(5)
        assert GraphOutput(PO(y=2))["y"] == 2 and "y" in GraphOutput(PO(y=2))
        assert GraphOutput(DO(y=3))["y"] == 3 and "x" not in GraphOutput(DO(y=3))
        with pytest.raises(KeyError):
            GraphOutput(5)["x"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.value = 1  # type: ignore[misc]


def test_invoke_inside_a_node_returns_graph_output_too() -> None:
    def outer(s: S) -> dict:
        return {"x": [repr(SUBGRAPH.invoke({"x": ["o"]}, version="v2"))]}

    graph = _graph(("outer", outer))
    assert graph.invoke({"x": []}) == {
        "x": ["GraphOutput(value={'x': ['o', 'sa']}, interrupts=())"]
    }


# ------------------------------------------------------------- schema classes

class P(pydantic.BaseModel):
    x: int
    y: int


class PO(pydantic.BaseModel):
    y: int


def test_values_and_output_are_built_as_the_output_schema_class(use_async: bool) -> None:
    def inc(s: P) -> dict:
        return {"y": s.x + 1}

    def ask_x(s: P) -> dict:
        return {"x": interrupt("q")}

    builder = StateGraph(P, output_schema=PO)
    builder.add_node("inc", inc).add_node("ask", ask_x)
    builder.add_edge(START, "inc").add_edge("inc", "ask")
    graph = builder.compile(checkpointer=InMemorySaver())
    cfg = thread("p")
    assert run(graph, {"x": 1, "y": 0}, use_async, cfg, stream_mode="values") == [
        values(PO(y=0)), values(PO(y=2)), values(PO(y=2), interrupts=pause("q"))
    ]
    assert invoke(graph, Command(resume=5), use_async, cfg) == GraphOutput(PO(y=2))
    assert invoke(graph, {"x": 1, "y": 0}, use_async, thread("p2")) == GraphOutput(
        PO(y=2), pause("q")
    )
    # v1 is unchanged: dicts.
    assert norm(graph.invoke({"x": 1, "y": 0}, thread("p3"))) == {
        "y": 2, "__interrupt__": [Interrupt("q", "<iid>")]
    }


@dataclasses.dataclass
class D:
    x: int = 0
    y: int = 0


@dataclasses.dataclass
class DO:
    y: int = 0


def test_dataclass_state_and_subgraph_values(use_async: bool) -> None:
    def inc(s: D) -> dict:
        return {"y": s.x + 1}

    builder = StateGraph(D)
    builder.add_node("inc", inc).add_edge(START, "inc")
    graph = builder.compile()
    assert run(graph, {"x": 1}, use_async, stream_mode="values") == [
        values(D(x=1)), values(D(x=1, y=2))
    ]
    assert invoke(graph, {"x": 1}, use_async) == GraphOutput(D(x=1, y=2))
    outer = StateGraph(D).add_node("sub", graph).add_edge(START, "sub").compile()
    assert run(outer, {"x": 1}, use_async, stream_mode="values", subgraphs=True) == [
        values(D(x=1)), values(D(x=1), SUB), values(D(x=1, y=2), SUB), values(D(x=1, y=2))
    ]


def test_a_dataclass_output_schema_takes_only_its_fields(use_async: bool) -> None:
    # Departs on purpose: LangGraph 1.2.22 raises TypeError (DO() got an unexpected
    # keyword argument 'x') on the values items, as it passes every state key.
    def inc(s: D) -> dict:
        return {"y": s.x + 1}

    builder = StateGraph(D, output_schema=DO)
    graph = builder.add_node("inc", inc).add_edge(START, "inc").compile()
    assert run(graph, {"x": 1}, use_async, stream_mode="values") == [
        values(DO(y=0)), values(DO(y=2))
    ]
    assert invoke(graph, {"x": 1}, use_async) == GraphOutput(DO(y=2))


def test_an_empty_explicit_output_gives_none() -> None:
    class In(TypedDict):
        x: int

    class Out(TypedDict):
        z: int

    builder = StateGraph(In, output_schema=Out)
    graph = builder.add_node("n", lambda s: {"x": 1}).add_edge(START, "n").compile()
    assert graph.invoke({"x": 0}, version="v2") == GraphOutput(None)
    assert graph.invoke({"x": 0}) is None


# ---------------------------------------------------------------- functional API

@task
def double(n: int) -> int:
    return n * 2


def test_entrypoint_v2(use_async: bool) -> None:
    @entrypoint()
    def plain(n: int) -> int:
        return double(n).result()

    assert invoke(plain, 3, use_async) == GraphOutput(6)
    assert run(plain, 3, use_async, stream_mode="values") == [values(6)]
    assert run(plain, 3, use_async, stream_mode=["values", "updates"]) == [
        part("updates", {"double": 6}), part("updates", {"plain": 6}), values(6)
    ]


def test_entrypoint_v2_interrupts(use_async: bool) -> None:
    @entrypoint(checkpointer=InMemorySaver())
    def wf(n: int) -> dict:
        get_stream_writer()({"n": n})
        v = double(n).result()
        return {"v": v, "ans": interrupt("more?")}

    cfg = thread("wf")
    modes = ["values", "updates", "custom"]
    assert run(wf, 3, use_async, cfg, stream_mode=modes) == [
        part("custom", {"n": 3}),
        part("updates", {"double": 6}),
        part("updates", {"__interrupt__": pause("more?")}),
        values({}, interrupts=pause("more?")),
    ]
    assert run(wf, Command(resume="y"), use_async, cfg, stream_mode=modes) == [
        values(None),
        part("custom", {"n": 3}),
        part("updates", {"wf": {"v": 6, "ans": "y"}}),
        values({"v": 6, "ans": "y"}),
    ]
    cfg = thread("wf-invoke")
    assert invoke(wf, 3, use_async, cfg) == GraphOutput({}, pause("more?"))
    assert invoke(wf, Command(resume="q"), use_async, cfg) == GraphOutput({"v": 6, "ans": "q"})


# ---------------------------------------------------------------- errors, early exit

def test_an_error_mid_stream_comes_after_the_parts_before_it(use_async: bool) -> None:
    graph = _graph(("a", node_a), ("boom", boom))
    got: list = []

    async def consume() -> None:
        async for p in graph.astream({"x": []}, stream_mode=["values", "updates", "custom"],
                                     version="v2"):
            got.append(p)

    with pytest.raises(ValueError, match="boom"):
        if use_async:
            asyncio.run(consume())
        else:
            for p in graph.stream({"x": []}, stream_mode=["values", "updates", "custom"],
                                  version="v2"):
                got.append(p)
    assert got == [
        values({"x": []}),
        part("custom", "hi"),
        part("updates", {"a": {"x": ["a"]}}),
        values({"x": ["a"]}),
    ]


def test_leaving_early_stops_the_run(use_async: bool) -> None:
    ran: list[str] = []

    def b(s: S) -> dict:
        ran.append("b")
        return {"x": ["b"]}

    graph = _graph(("a", node_a), ("b", b))
    if use_async:
        async def first() -> Any:
            async for p in graph.astream({"x": []}, version="v2"):
                return p

        item = asyncio.run(first())
    else:
        item = next(iter(graph.stream({"x": []}, version="v2")))
    assert item == part("updates", {"a": {"x": ["a"]}})
    assert ran == []


@pytest.mark.parametrize("version", ["v3", "V2", None, 2])
def test_an_unknown_version_is_refused_at_the_call(version: Any) -> None:
    # Departs on purpose: LangGraph 1.2.22 runs any other value as v1.
    message = r"version must be 'v1' .* or 'v2' .*, got "
    with pytest.raises(ConfigError, match=message):
        GRAPH.invoke({"x": []}, version=version)
    with pytest.raises(ConfigError, match=message):
        GRAPH.stream({"x": []}, version=version)
    with pytest.raises(ConfigError, match=message):
        GRAPH.astream({"x": []}, version=version)
    with pytest.raises(ConfigError, match=message):
        asyncio.run(GRAPH.ainvoke({"x": []}, version=version))


def test_v1_stays_the_default() -> None:
    assert GRAPH.invoke({"x": []}) == GRAPH.invoke({"x": []}, version="v1") == {
        "x": ["a", "a", "sa", "b"]
    }
    assert list(GRAPH.stream({"x": []})) == [p["data"] for p in UPDATES]
    graph = asking()
    assert norm(list(graph.stream({"x": []}, thread("v1"), stream_mode="values"))) == [
        {"x": []}, {"x": ["a"]}, {"x": ["a"], "__interrupt__": pause()}
    ]


def test_the_part_types_have_langgraphs_keys() -> None:
    from rillet import types

    assert types.ValuesStreamPart.__required_keys__ == {"type", "ns", "data", "interrupts"}
    for name in ("UpdatesStreamPart", "MessagesStreamPart", "CustomStreamPart",
                 "CheckpointStreamPart", "TasksStreamPart", "DebugStreamPart"):
        assert getattr(types, name).__required_keys__ == {"type", "ns", "data"}, name
    assert types.TaskResultPayload.__required_keys__ == {
        "id", "name", "error", "result", "interrupts"
    }
