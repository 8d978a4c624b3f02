"""Mistakes made while building a graph: each raises the right error, with a message
that names the argument or edge at fault.

A wrong argument type is a ``UsageError`` (also a ``TypeError``); a graph of the wrong
shape is a ``GraphBuildError`` (also a ``ValueError``), as in ``test_builder.py``.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import pytest

from rillet.errors import GraphBuildError, UsageError
from rillet.graph import END, START, StateGraph


class State(TypedDict):
    log: Annotated[list[str], operator.add]


def a(state: State) -> dict[str, Any]:
    return {"log": ["a"]}


def b(state: State) -> dict[str, Any]:
    return {"log": ["b"]}


def builder_ab() -> StateGraph:
    return StateGraph(State).add_node(a).add_node(b).add_edge(START, "a")


def test_usage_error_is_a_type_error() -> None:
    assert issubclass(UsageError, TypeError)


# ------------------------------------------------------------ wrong types (U6)


def test_add_edge_with_none_as_the_start() -> None:
    with pytest.raises(UsageError) as info:
        StateGraph(State).add_edge(None, "a")  # type: ignore[arg-type]
    assert str(info.value) == (
        "add_edge(start_key, 'a'): start_key must be a node name, START, or a list of "
        "node names, got NoneType: None"
    )


def test_add_edge_with_an_int_as_the_end() -> None:
    with pytest.raises(UsageError) as info:
        StateGraph(State).add_edge(START, 42)  # type: ignore[arg-type]
    assert str(info.value) == (
        "add_edge('__start__', end_key): end_key must be a node name or END, got int: 42"
    )


def test_add_edge_with_a_non_str_in_a_join() -> None:
    with pytest.raises(UsageError, match=r"start_key must be a node name.*got list: \['a', 1\]"):
        StateGraph(State).add_edge(["a", 1], "b")  # type: ignore[list-item]


def test_add_node_with_an_int_as_destinations() -> None:
    with pytest.raises(UsageError) as info:
        StateGraph(State).add_node(a, destinations=42)  # type: ignore[arg-type]
    assert str(info.value) == (
        "add_node('a', destinations=...): expected a node name, a list of node names or a "
        "dict of node names to edge labels, got int: 42"
    )


def test_add_node_with_a_str_as_metadata() -> None:
    with pytest.raises(UsageError) as info:
        StateGraph(State).add_node(a, metadata="m")  # type: ignore[arg-type]
    assert str(info.value) == "add_node('a', metadata=...): expected a dict, got str: 'm'"


def test_add_node_with_a_non_str_name() -> None:
    with pytest.raises(UsageError) as info:
        StateGraph(State).add_node(42, a)
    assert str(info.value) == "add_node(name, action): the name must be a str, got int: 42"


def test_add_node_with_a_non_callable_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        StateGraph(State).add_node("x", 5)
    assert str(info.value) == (
        "add_node('x', ...): expected a function, an async function or a compiled graph, "
        "got int"
    )


def test_add_node_with_a_name_only_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        StateGraph(State).add_node("x")
    assert str(info.value) == "add_node('x'): give the node's function as well"


def test_add_node_with_an_object_that_has_no_name() -> None:
    class Nameless:
        def __call__(self, state: State) -> None:
            return None

    with pytest.raises(UsageError, match=r"cannot infer a node name from this object"):
        StateGraph(State).add_node(Nameless())


def test_add_sequence_with_a_one_item_tuple() -> None:
    with pytest.raises(UsageError) as info:
        StateGraph(State).add_sequence([("a",)])  # type: ignore[list-item]
    assert str(info.value) == (
        "add_sequence(): each item must be a function or a (name, function) pair, got ('a',)"
    )


def test_add_sequence_with_a_str() -> None:
    with pytest.raises(UsageError, match=r"^add_sequence\(nodes\): expected a list.*got str"):
        StateGraph(State).add_sequence("ab")  # type: ignore[arg-type]


def test_add_conditional_edges_with_a_non_callable_path() -> None:
    with pytest.raises(UsageError) as info:
        builder_ab().add_conditional_edges("a", "b")  # type: ignore[arg-type]
    assert str(info.value) == (
        "add_conditional_edges('a', path): path must be a function, got str: 'b'"
    )


def test_add_conditional_edges_with_a_non_str_source() -> None:
    with pytest.raises(UsageError, match=r"source must be a node name or START, got int: 1"):
        builder_ab().add_conditional_edges(1, lambda s: "b")  # type: ignore[arg-type]


def test_path_map_with_a_non_str_target() -> None:
    with pytest.raises(UsageError) as info:
        builder_ab().add_conditional_edges("a", lambda s: "x", {"x": 5})  # type: ignore[dict-item]
    assert str(info.value) == (
        "add_conditional_edges('a', condition): path_map['x'] must be a node name (str), "
        "got int: 5"
    )


def test_path_map_of_another_type() -> None:
    with pytest.raises(UsageError, match=r"path_map must be a dict.*got int"):
        builder_ab().add_conditional_edges("a", lambda s: "b", 5)  # type: ignore[arg-type]


def test_compile_with_a_non_str_name() -> None:
    with pytest.raises(UsageError, match=r"^compile\(name=\.\.\.\): expected a str, got int$"):
        builder_ab().compile(name=5)  # type: ignore[arg-type]


# ------------------------------------------------------------------ path_map


def test_a_single_string_path_map_means_that_one_node() -> None:
    builder = builder_ab().add_conditional_edges("a", lambda s: "b", "b")
    assert builder.branches["a"]["condition"].path_map == {"b": "b"}
    assert builder.compile().invoke({"log": []}) == {"log": ["a", "b"]}


def test_a_single_string_path_map_to_an_unknown_node_is_found_at_compile() -> None:
    builder = builder_ab().add_conditional_edges("a", lambda s: "c", "c")
    with pytest.raises(GraphBuildError, match=r"from 'a' ends at unknown node 'c'"):
        builder.compile()


# ----------------------------------------------------------------- joins (D14)


def test_a_join_with_a_repeated_source_is_rejected_at_compile() -> None:
    builder = builder_ab().add_edge(["a", "a"], "b")
    with pytest.raises(GraphBuildError) as info:
        builder.compile()
    assert str(info.value) == (
        "Edge ['a', 'a'] -> 'b' names 'a' twice: a join waits for each of its nodes once, "
        "so list each node once"
    )


def test_start_in_a_join_says_start_cannot_be_part_of_a_join() -> None:
    with pytest.raises(GraphBuildError) as info:
        builder_ab().add_edge([START, "a"], "b")
    assert str(info.value) == (
        "add_edge(['__start__', 'a'], 'b'): START cannot be part of a join; a join waits "
        "for nodes to finish. Use add_edge(START, 'b') to start the run at 'b'."
    )


# ------------------------------------------------------------------ END (D13)


def test_start_to_end_compiles_and_keeps_the_edge() -> None:
    builder = StateGraph(State).add_edge(START, END)
    graph = builder.compile()
    assert builder.edges == {(START, END)}
    assert graph.start_edges == (END,)


def test_start_to_a_node_and_to_end_compiles_and_keeps_both_edges() -> None:
    builder = StateGraph(State).add_node(a).add_edge(START, "a").add_edge(START, END)
    graph = builder.compile()
    assert builder._edge_order == [(START, "a"), (START, END)]
    assert graph.start_edges == ("a", END)


def test_a_join_to_end_compiles_and_keeps_its_target() -> None:
    builder = builder_ab().add_edge(START, "b").add_edge(["a", "b"], END)
    graph = builder.compile()
    assert builder.joins == [(("a", "b"), END)]
    assert graph.joins == ((("a", "b"), END),)
    assert graph.nodes["a"].joins == (0,)
    assert graph.nodes["b"].joins == (0,)


def test_a_join_to_end_is_drawn_as_its_nodes_ending_the_run() -> None:
    builder = builder_ab().add_edge(START, "b").add_edge(["a", "b"], END)
    assert builder.compile().get_graph().draw_mermaid(with_styles=False) == (
        "graph TD;\n"
        "\t__start__ --> a;\n"
        "\t__start__ --> b;\n"
        "\ta --> __end__;\n"
        "\tb --> __end__;\n"
    )


# ---------------------------------------------------------------- wording (C4)


def test_a_path_function_without_a_parameter_is_called_a_path_function() -> None:
    with pytest.raises(UsageError) as info:
        builder_ab().add_conditional_edges("a", lambda: "b")
    assert str(info.value) == (
        "Path function '<lambda>' must take the state as its first parameter, "
        "e.g. def route(state): ..."
    )


def test_a_node_function_without_a_parameter_is_called_a_node_function() -> None:
    def no_state() -> dict[str, Any]:
        return {}

    with pytest.raises(UsageError) as info:
        StateGraph(State).add_node(no_state)
    assert str(info.value) == (
        "Node function 'no_state' must take the state as its first parameter, "
        "e.g. def node(state): ..."
    )


def test_a_declared_destination_to_an_unknown_node_is_worded_plainly() -> None:
    builder = builder_ab().add_node("c", a, destinations=("bb",))
    with pytest.raises(GraphBuildError) as info:
        builder.compile()
    assert str(info.value) == (
        "Node 'c' declares the destination 'bb', which is not a node: did you mean 'b'?"
    )
