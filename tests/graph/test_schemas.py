"""Input, output and private schemas (LangGraph's "multiple schemas" how-to), and
``add_node(..., defer=True)``; expected outputs are LangGraph 1.2.22's."""

import operator
import re
import warnings
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

import pytest

from rillet.errors import GraphBuildError, InvalidUpdateError, UsageError
from rillet.graph import END, START, StateGraph

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class InputState(TypedDict):
    user_input: str


class OutputState(TypedDict):
    graph_output: str


class OverallState(TypedDict):
    foo: str
    user_input: str
    graph_output: str


class PrivateState(TypedDict):
    bar: str


def _how_to_graph(seen: list[tuple[str, dict[str, Any]]]) -> Any:
    def node_1(state: InputState) -> OverallState:
        seen.append(("node_1", dict(state)))
        return {"foo": state["user_input"] + " name"}

    def node_2(state: OverallState) -> PrivateState:
        seen.append(("node_2", dict(state)))
        return {"bar": state["foo"] + " is"}

    def node_3(state: PrivateState) -> OutputState:
        seen.append(("node_3", dict(state)))
        return {"graph_output": state["bar"] + " Lance"}

    builder = StateGraph(OverallState, input_schema=InputState, output_schema=OutputState)
    builder.add_node("node_1", node_1)
    builder.add_node("node_2", node_2)
    builder.add_node("node_3", node_3)
    builder.add_edge(START, "node_1")
    builder.add_edge("node_1", "node_2")
    builder.add_edge("node_2", "node_3")
    builder.add_edge("node_3", END)
    return builder.compile()


def test_input_output_and_private_state() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    graph = _how_to_graph(seen)
    # The input schema keeps its own keys only; the output schema is what invoke returns.
    assert graph.invoke({"user_input": "My", "foo": "x"}) == {"graph_output": "My name is Lance"}
    assert seen == [
        ("node_1", {"user_input": "My"}),
        ("node_2", {"foo": "My name", "user_input": "My"}),
        ("node_3", {"bar": "My name is"}),
    ]


def test_values_show_every_key_updates_what_nodes_wrote() -> None:
    graph = _how_to_graph([])
    assert list(graph.stream({"user_input": "My"}, stream_mode="values")) == [
        {"user_input": "My"},
        {"foo": "My name", "user_input": "My"},
        {"foo": "My name", "user_input": "My", "bar": "My name is"},
        {"foo": "My name", "user_input": "My", "graph_output": "My name is Lance",
         "bar": "My name is"},
    ]
    assert list(graph.stream({"user_input": "My"})) == [
        {"node_1": {"foo": "My name"}},
        {"node_2": {"bar": "My name is"}},
        {"node_3": {"graph_output": "My name is Lance"}},
    ]


def test_old_names_input_and_output_warn_and_work() -> None:
    def node_1(state: InputState) -> dict[str, Any]:
        return {"foo": state["user_input"] + " name"}

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        builder = StateGraph(OverallState, input=InputState, output=OutputState)
    assert [(w.category, str(w.message)) for w in caught] == [
        (DeprecationWarning,
         "`input` is deprecated and will be removed. Please use `input_schema` instead."),
        (DeprecationWarning,
         "`output` is deprecated and will be removed. Please use `output_schema` instead."),
    ]
    graph = builder.add_node(node_1).add_edge(START, "node_1").compile()
    # No key of the output schema has a value: invoke returns None, as LangGraph does.
    assert graph.invoke({"user_input": "My"}) is None


def test_add_node_input_schema() -> None:
    seen: list[dict[str, Any]] = []

    def n4(state: Any) -> dict[str, Any]:
        seen.append(dict(state))
        return {"bar": "b"}

    def node_3(state: PrivateState) -> dict[str, Any]:
        seen.append(dict(state))
        return {"graph_output": state["bar"] + " Lance"}

    graph = (
        StateGraph(OverallState)
        .add_node("n4", n4, input_schema=PrivateState)
        .add_node(node_3)
        .add_edge(START, "n4")
        .add_edge("n4", "node_3")
        .compile()
    )
    # The output is the state's keys: the private key stays out of it.
    assert graph.invoke({"foo": "a"}) == {"foo": "a", "graph_output": "b Lance"}
    assert seen == [{}, {"bar": "b"}]


class Overall(TypedDict):
    items: Annotated[list[int], operator.add]
    total: int


class Out(TypedDict):
    total: int


@dataclass
class Counting:
    items: list[int]
    scratch: int = 0


def _counting_subgraph(seen: list[list[str]]) -> Any:
    def count(state: Counting) -> dict[str, Any]:
        return {"scratch": len(state.items)}

    def finish(state: Overall) -> dict[str, Any]:
        seen.append(sorted(state))
        return {"total": sum(state["items"])}

    return (
        StateGraph(Overall, output_schema=Out)
        .add_node(count)
        .add_node(finish)
        .add_edge(START, "count")
        .add_edge("count", "finish")
        .compile()
    )


def test_dataclass_private_schema_and_output_schema() -> None:
    seen: list[list[str]] = []
    sub = _counting_subgraph(seen)
    assert sub.invoke({"items": [1, 2]}) == {"total": 3}
    assert seen == [["items"]]  # a node on the state does not see the private key
    assert list(sub.stream({"items": [1, 2]}, stream_mode="values")) == [
        {"items": [1, 2]},
        {"items": [1, 2], "scratch": 2},
        {"items": [1, 2], "total": 3, "scratch": 2},
    ]


def test_a_subgraph_with_an_output_schema_shows_only_its_output_keys() -> None:
    class Parent(TypedDict):
        items: Annotated[list[int], operator.add]
        total: int
        note: str

    def note(state: Parent) -> dict[str, Any]:
        return {"note": f"total={state['total']}"}

    graph = (
        StateGraph(Parent)
        .add_node("sub", _counting_subgraph([]))
        .add_node(note)
        .add_edge(START, "sub")
        .add_edge("sub", "note")
        .compile()
    )
    assert graph.invoke({"items": [3]}) == {"items": [3], "total": 3, "note": "total=3"}
    items = list(graph.stream({"items": [3]}, subgraphs=True))
    (ns,) = items[0][0]
    assert re.fullmatch(f"sub:{UUID.pattern}", ns)
    # As LangGraph: inside a node, a graph's updates show its output keys only.
    assert items == [
        ((ns,), {"count": None}),
        ((ns,), {"finish": {"total": 3}}),
        ((), {"sub": {"total": 3}}),
        ((), {"note": {"note": "total=3"}}),
    ]


def test_unknown_keys_still_raise() -> None:
    def bad(state: OverallState) -> dict[str, Any]:
        return {"nope": 1}

    graph = StateGraph(OverallState).add_node(bad).add_edge(START, "bad").compile()
    with pytest.raises(InvalidUpdateError) as caught:
        graph.invoke({"foo": "a"})
    assert str(caught.value).startswith(
        "Node 'bad' returned key 'nope', which is not in the state OverallState "
        "(keys: foo, user_input, graph_output)."
    )
    with pytest.raises(InvalidUpdateError) as caught:
        _how_to_graph([]).invoke({"zzz": "My"})
    assert str(caught.value) == (
        "The graph input has key 'zzz', which is not in the state OverallState "
        "(keys: foo, user_input, graph_output, bar)."
    )


def test_a_key_with_two_reducers_is_a_build_error() -> None:
    class Other(TypedDict):
        items: Annotated[list[int], lambda a, b: b]

    def node(state: Other) -> None:
        return None

    with pytest.raises(GraphBuildError) as caught:
        StateGraph(Overall).add_node(node)
    assert str(caught.value) == (
        "State key 'items' of Other has another reducer than in an earlier schema of the "
        "graph: give it the same annotation in both"
    )

    class Plain(TypedDict):
        items: list[int]

    def plain(state: Plain) -> dict[str, Any]:
        return {"items": [len(state["items"])]}

    graph = StateGraph(Overall).add_node(plain).add_edge(START, "plain").compile()
    assert graph.invoke({"items": [5]}) == {"items": [5, 1]}  # the reducer applies


def test_options_langgraph_lacks_or_rillet_does_not_support() -> None:
    with pytest.raises(UsageError) as caught:
        StateGraph(OverallState, schema=InputState)
    assert str(caught.value) == "StateGraph() got unexpected keyword argument(s): schema"

    def node(state: OverallState) -> None:
        return None

    builder = StateGraph(OverallState)
    for option in ("error_handler", "timeout", "trace_policy"):
        with pytest.raises(UsageError) as caught:
            builder.add_node(node, **{option: 1})
        assert str(caught.value) == (
            f"add_node('node', ...): rillet does not support the {option}= option yet"
        )
    with pytest.raises(UsageError) as caught:
        builder.add_node(node, cache_policy=1)
    assert str(caught.value) == (
        "add_node('node', cache_policy=...): expected a rillet.types.CachePolicy, got "
        "builtins.int"
    )
    with pytest.raises(UsageError) as caught:
        builder.add_node(node, wait=True)
    assert str(caught.value) == "add_node('node', ...) got unexpected keyword argument(s): wait"
    with pytest.raises(UsageError) as caught:
        builder.add_node(node, defer="yes")
    assert str(caught.value) == (
        "add_node('node', defer=...) must be True or False, got str: 'yes'"
    )


class Agg(TypedDict):
    aggregate: Annotated[list[str], operator.add]


def _node(name: str) -> Any:
    def node(state: Agg) -> dict[str, Any]:
        return {"aggregate": [name]}

    node.__name__ = name
    return node


def test_defer_runs_when_nothing_else_is_left() -> None:
    builder = StateGraph(Agg)
    for name in ("a", "b", "b_2", "c"):
        builder.add_node(_node(name))
    builder.add_node(_node("d"), defer=True)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("a", "c")
    builder.add_edge("b", "b_2")
    builder.add_edge("b_2", "d")
    builder.add_edge("c", "d")
    builder.add_edge("d", END)
    graph = builder.compile()
    # Without defer, d would run twice (after c, then after b_2).
    assert graph.invoke({"aggregate": []}) == {"aggregate": ["a", "b", "c", "b_2", "d"]}
    debug = [(e["step"], e["type"], e["payload"]["name"])
             for e in graph.stream({"aggregate": []}, stream_mode="debug")]
    assert debug == [
        (1, "task", "a"), (1, "task_result", "a"),
        (2, "task", "b"), (2, "task", "c"), (2, "task_result", "b"), (2, "task_result", "c"),
        (3, "task", "b_2"), (3, "task_result", "b_2"),
        (4, "task", "d"), (4, "task_result", "d"),
    ]


def test_a_deferred_join() -> None:
    builder = StateGraph(Agg)
    for name in ("a", "b", "c"):
        builder.add_node(_node(name))
    builder.add_node(_node("d"), defer=True)
    builder.add_edge(START, "a")
    builder.add_edge(START, "b")
    builder.add_edge("a", "c")
    builder.add_edge(["b", "c"], "d")
    assert builder.compile().invoke({"aggregate": []}) == {"aggregate": ["a", "b", "c", "d"]}
