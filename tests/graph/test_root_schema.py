"""A state that is one value, not keys: ``StateGraph(Annotated[list, operator.add])``,
``StateGraph(Annotated[list, add_messages])``, ``StateGraph(int)`` (LangGraph's
``__root__`` channel). Every expected output was checked against LangGraph 1.2.22
running the same graph."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, Literal, TypedDict

import pytest

from rillet.checkpoint.memory import InMemorySaver
from rillet.errors import EmptyInputError, GraphBuildError, InvalidUpdateError, UsageError
from rillet.graph import END, START, StateGraph, add_messages
from rillet.messages import AIMessage, HumanMessage
from rillet.types import Command, Send, interrupt
from tests.draw.mermaid_common import mermaid

Log = Annotated[list, operator.add]


def thread(name: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": name}}


def chain(seen: list[Any] | None = None, **kwargs: Any) -> StateGraph:
    """a returns [3], b returns [4, 5]; both note what they were given."""

    def a(state: Any) -> list[int]:
        if seen is not None:
            seen.append(("a", state))
        return [3]

    def b(state: Any) -> list[int]:
        if seen is not None:
            seen.append(("b", state))
        return [4, 5]

    builder = StateGraph(Log, **kwargs).add_node("a", a).add_node("b", b)
    return builder.add_edge(START, "a").add_edge("a", "b").add_edge("b", END)


def one_node(schema: Any, fn: Any, **kwargs: Any) -> StateGraph:
    return StateGraph(schema, **kwargs).add_node("n", fn).add_edge(START, "n")


# ------------------------------------------------------------------ running


@pytest.mark.parametrize("api", ["sync", "async"])
def test_nodes_get_the_value_and_return_its_update(api: str) -> None:
    seen: list[Any] = []
    graph = chain(seen).compile()
    out = graph.invoke([1, 2]) if api == "sync" else asyncio.run(graph.ainvoke([1, 2]))
    assert out == [1, 2, 3, 4, 5]
    assert seen == [("a", [1, 2]), ("b", [1, 2, 3])]


@pytest.mark.parametrize("api", ["sync", "async"])
def test_stream_modes(api: str) -> None:
    graph = chain().compile()

    def items(mode: Any) -> list[Any]:
        if api == "sync":
            return list(graph.stream([1], stream_mode=mode))

        async def collect() -> list[Any]:
            return [item async for item in graph.astream([1], stream_mode=mode)]

        return asyncio.run(collect())

    assert items("values") == [[1], [1, 3], [1, 3, 4, 5]]
    assert items("updates") == [{"a": [3]}, {"b": [4, 5]}]
    assert items(["values", "updates"]) == [
        ("values", [1]), ("updates", {"a": [3]}), ("values", [1, 3]),
        ("updates", {"b": [4, 5]}), ("values", [1, 3, 4, 5]),
    ]
    results = [i for i in items("tasks") if "result" in i]
    assert [(i["name"], i["result"]) for i in results] == [
        ("a", {"__root__": [3]}), ("b", {"__root__": [4, 5]})
    ]


def test_a_node_returning_none_leaves_the_value() -> None:
    graph = one_node(Log, lambda s: None).compile()
    assert graph.invoke([1]) == [1]
    assert list(graph.stream([1], stream_mode="updates")) == [{"n": None}]


def test_add_messages_as_the_whole_state() -> None:
    graph = one_node(Annotated[list, add_messages], lambda s: AIMessage("hi", id="2")).compile()
    out = graph.invoke([HumanMessage("yo", id="1")])
    assert out == [HumanMessage("yo", id="1"), AIMessage("hi", id="2")]
    assert [(type(m).__name__, m.content) for m in graph.invoke("yo")] == [
        ("HumanMessage", "yo"), ("AIMessage", "hi")
    ]
    assert graph.invoke({"role": "user", "content": "yo", "id": "1"}) == out
    assert list(graph.stream([HumanMessage("yo", id="1")], stream_mode="updates")) == [
        {"n": AIMessage("hi", id="2")}
    ]


@pytest.mark.parametrize(
    ("schema", "fn", "given", "update", "expected"),
    [
        (int, lambda s: s + 1, 1, 2, 2),
        (str, lambda s: s + "!", "a", "a!", "a!"),
        (list, lambda s: [9], [1], [9], [9]),  # no reducer: the last value
        (Annotated[int, operator.add], lambda s: 5, 1, 5, 6),
        (dict, lambda s: {"b": 2}, {"a": 1}, {"b": 2}, {"b": 2}),
    ],
    ids=["int", "str", "list", "int-add", "dict"],
)
def test_plain_types(schema: Any, fn: Any, given: Any, update: Any, expected: Any) -> None:
    graph = one_node(schema, fn).compile()
    assert graph.invoke(given) == expected
    assert list(graph.stream(given, stream_mode="updates")) == [{"n": update}]
    assert list(graph.stream(given, stream_mode="values")) == [given, expected]


def test_a_reducer_that_cannot_take_the_update_raises_its_error() -> None:
    graph = one_node(Log, lambda s: {"a": 1}).compile()
    with pytest.raises(TypeError, match=r'can only concatenate list \(not "dict"\) to list'):
        graph.invoke([1])


# ------------------------------------------------------------------ routing


def route(state: list[Any]) -> Literal["x", "y"]:
    return "x" if len(state) < 3 else "y"


def test_conditional_edges_read_the_value() -> None:
    builder = StateGraph(Log).add_node("x", lambda s: ["x"]).add_node("y", lambda s: ["y"])
    builder.add_conditional_edges(START, route).add_conditional_edges("x", route)
    graph = builder.add_edge("y", END).compile()
    assert graph.invoke([1]) == [1, "x", "x", "y"]
    assert list(graph.stream([1], stream_mode="updates")) == [
        {"x": ["x"]}, {"x": ["x"]}, {"y": ["y"]}
    ]
    assert graph.get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "x(x)",
        "y(y)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ -.-> x;",
        "__start__ -.-> y;",
        "x -.-> y;",
        "y --> __end__;",
        "x -.-> x;",
    )


def test_send_gives_its_argument() -> None:
    builder = StateGraph(Log).add_node("w", lambda s: [s * 10])
    graph = builder.add_conditional_edges(START, lambda s: [Send("w", i) for i in s],
                                          ["w"]).compile()
    assert graph.invoke([1, 2]) == [1, 2, 10, 20]
    assert list(graph.stream([1, 2], stream_mode="updates")) == [{"w": [10]}, {"w": [20]}]


def test_command_update_is_the_update() -> None:
    def cmd(state: Any) -> Command[Literal["z"]]:
        return Command(update=["c"], goto="z")

    builder = StateGraph(Log).add_node("cmd", cmd).add_node("z", lambda s: ["z"])
    graph = builder.add_edge(START, "cmd").compile()
    assert graph.invoke([1]) == [1, "c", "z"]
    assert list(graph.stream([1], stream_mode="updates")) == [{"cmd": ["c"]}, {"z": ["z"]}]


def test_a_subgraph_with_a_root_state() -> None:
    sub = one_node(Log, lambda s: ["s1"]).compile()
    graph = StateGraph(Log).add_node("sub", sub).add_edge(START, "sub").compile()
    # The subgraph returns its whole value, which the parent's reducer adds.
    assert graph.invoke([1]) == [1, 1, "s1"]
    items = list(graph.stream([1], stream_mode="updates", subgraphs=True))
    assert [(ns[0].split(":")[0] if ns else ns, item) for ns, item in items] == [
        ("sub", {"n": ["s1"]}), ((), {"sub": [1, "s1"]})
    ]
    assert graph.get_graph(xray=True).draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> sub\\3an;",
        "sub\\3an --> __end__;",
        "subgraph sub",
        "sub\\3an(n)",
        "end",
    )


def test_root_input_and_output_schemas() -> None:
    def add9(state: Any) -> list[int]:
        return [9]

    assert one_node(Log, add9, output_schema=list).compile().invoke([1]) == [1, 9]
    assert one_node(Log, add9, input_schema=list).compile().invoke([1]) == [1, 9]


# ------------------------------------------------------------------ saved state


def test_with_a_checkpointer() -> None:
    graph = chain().compile(checkpointer=InMemorySaver())
    cfg = thread("1")
    assert graph.invoke([1], cfg) == [1, 3, 4, 5]
    assert (graph.get_state(cfg).values, graph.get_state(cfg).next) == ([1, 3, 4, 5], ())
    assert graph.invoke([9], cfg) == [1, 3, 4, 5, 9, 3, 4, 5]
    assert [h.values for h in graph.get_state_history(cfg)] == [
        [1, 3, 4, 5, 9, 3, 4, 5], [1, 3, 4, 5, 9, 3], [1, 3, 4, 5, 9], [1, 3, 4, 5],
        [1, 3, 4, 5], [1, 3], [1], [],
    ]
    graph.update_state(cfg, [100])
    assert graph.get_state(cfg).values == [1, 3, 4, 5, 9, 3, 4, 5, 100]
    assert graph.get_state(thread("nope")).values == {}


def test_update_state_as_a_node() -> None:
    graph = one_node(Log, lambda s: [9]).compile(checkpointer=InMemorySaver())
    cfg = thread("u")
    graph.update_state(cfg, [5])
    assert graph.get_state(cfg).values == [5]
    graph.update_state(cfg, [6], as_node="n")
    assert (graph.get_state(cfg).values, graph.get_state(cfg).next) == ([5, 6], ())


def test_an_int_thread_history_starts_empty() -> None:
    graph = one_node(int, lambda s: s + 1).compile(checkpointer=InMemorySaver())
    cfg = thread("h")
    assert graph.invoke(1, cfg) == 2
    assert [(h.values, h.next) for h in graph.get_state_history(cfg)] == [
        (2, ()), (1, ("n",)), (None, ("__start__",))
    ]
    assert graph.invoke(None, cfg) == 2
    assert list(graph.stream(5, cfg, stream_mode="values")) == [5, 6]


def test_interrupt_and_resume() -> None:
    def ask(state: Any) -> list[Any]:
        return [interrupt("q?")]

    graph = one_node(Log, ask).compile(checkpointer=InMemorySaver())
    cfg = thread("i")
    out = graph.invoke([1], cfg)
    assert list(out) == ["__interrupt__"]
    assert [i.value for i in out["__interrupt__"]] == ["q?"]
    assert (graph.get_state(cfg).values, graph.get_state(cfg).next) == ([1], ("n",))
    assert list(graph.stream(Command(resume="ans"), cfg, stream_mode="values")) == [
        [1], [1, "ans"]
    ]
    items = list(graph.stream([1], thread("j"), stream_mode="values"))
    assert items[0] == [1]
    assert list(items[1]) == ["__interrupt__"]
    assert isinstance(items[1]["__interrupt__"], tuple)
    assert graph.invoke(Command(update=[5], resume="r"), thread("j")) == [1, 5, "r"]


class Recording(InMemorySaver):
    """Keeps the root value's blobs as they are saved."""

    def __init__(self) -> None:
        super().__init__()
        self.root_blobs: list[Any] = []

    def save(self, record: Any, blobs: Any) -> None:
        self.root_blobs.extend(b for (key, _), b in blobs.items() if key == "__root__")
        super().save(record, blobs)


def test_a_growing_root_list_is_saved_as_deltas() -> None:
    saver = Recording()
    bot = one_node(Annotated[list, add_messages], lambda s: AIMessage("echo " + s[-1].content))
    graph = bot.compile(checkpointer=saver)
    cfg = thread("chat")
    for turn in range(5):
        out = graph.invoke([HumanMessage(f"turn {turn}")], cfg)
    assert [m.content for m in out][-2:] == ["turn 4", "echo turn 4"]
    assert saver.root_blobs[0].base is None
    assert all(b.base is not None for b in saver.root_blobs[1:])
    history = list(graph.get_state_history(cfg))
    assert [len(h.values) for h in history] == [10, 9, 8, 8, 7, 6, 6, 5, 4, 4, 3, 2, 2, 1, 0]
    cold = bot.compile(checkpointer=saver).get_state(cfg).values
    assert [m.content for m in cold] == [m.content for m in out]


# ------------------------------------------------------------------ errors


class S(TypedDict):
    a: int


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_schema": S}, "StateGraph(input_schema=...): Annotated[list, add] is one value "
         "(LangGraph's root channel) and S has keys; a graph's schemas are either all one "
         "value or all classes with keys"),
        ({"output_schema": S}, "StateGraph(output_schema=...): Annotated[list, add] is one "
         "value (LangGraph's root channel) and S has keys; a graph's schemas are either all "
         "one value or all classes with keys"),
    ],
)
def test_one_value_and_keys_do_not_mix(kwargs: dict[str, Any], message: str) -> None:
    # LangGraph fails later, when a node returns ("Expected dict, got [9]").
    with pytest.raises(GraphBuildError) as info:
        StateGraph(Log, **kwargs)
    assert str(info.value) == message
    with pytest.raises(GraphBuildError, match="int is one value"):
        StateGraph(S, output_schema=int)


def test_a_node_reading_keys_in_a_root_graph_fails_at_add_node() -> None:
    def node(state: S) -> list[Any]:
        return [state]

    with pytest.raises(GraphBuildError, match=r"add_node\('node', input_schema=...\)"):
        StateGraph(Log).add_node(node)


def test_no_input() -> None:
    graph = chain().compile()
    with pytest.raises(EmptyInputError) as info:
        graph.invoke(None)
    assert str(info.value) == (
        "Received no input for __start__: the state Annotated[list, add] is one value; "
        "pass it as the input"
    )


@pytest.mark.parametrize("schema", [5, None])
def test_not_a_type(schema: Any) -> None:
    # LangGraph only warns ("Invalid state_schema: 5").
    with pytest.raises(UsageError, match="expected a TypedDict, dataclass or pydantic model"):
        StateGraph(schema)


def test_a_keyed_subgraph_in_a_root_graph() -> None:
    sub = one_node(S, lambda s: {"a": 2}).compile()
    graph = StateGraph(Log).add_node("sub", sub).add_edge(START, "sub").compile()
    with pytest.raises(InvalidUpdateError, match="The graph input must be a dict of state keys"):
        graph.invoke([1])
