"""Building a graph: the builder API, and the mistakes ``compile()`` reports.

Every build mistake is a ``GraphBuildError`` (also a ``ValueError``, as in LangGraph)
whose message names the node or edge at fault.
"""

import dataclasses
import operator
from typing import Annotated, Any, Literal, TypedDict

import pytest

from rillet.errors import GraphBuildError, RilletError, UsageError
from rillet.graph import END, START, CompiledStateGraph, StateGraph
from rillet.types import Command, Send


class State(TypedDict):
    v: int
    log: Annotated[list[str], operator.add]


def a(state: State) -> dict[str, Any]:
    return {"log": ["a"]}


def b(state: State) -> dict[str, Any]:
    return {"log": ["b"]}


def c(state: State) -> dict[str, Any]:
    return {"log": ["c"]}


def go_to_b(state: State) -> Command[Literal["b"]]:
    return Command(goto="b", update={"log": ["a"]})


def go_to_b_unannotated(state: State) -> Command[Any]:
    return Command(goto="b", update={"log": ["a"]})


def builder_ab() -> StateGraph:
    return StateGraph(State).add_node(a).add_node(b).add_edge(START, "a")


def test_build_error_is_a_value_error_and_a_rillet_error() -> None:
    assert issubclass(GraphBuildError, ValueError)
    assert issubclass(GraphBuildError, RilletError)


# ---------------------------------------------------------------- unknown nodes


def test_edge_to_unknown_node_is_found_at_compile_with_a_did_you_mean_hint() -> None:
    builder = StateGraph(State).add_node(a).add_edge(START, "a").add_edge("a", "aa")
    with pytest.raises(GraphBuildError, match=r"'a' -> 'aa' ends at unknown node 'aa'"):
        builder.compile()
    with pytest.raises(ValueError, match=r"did you mean 'a'\?"):
        builder.compile()


def test_edge_to_unknown_node_without_a_close_name_lists_the_nodes() -> None:
    builder = StateGraph(State).add_node(a).add_edge(START, "a").add_edge("a", "zzz")
    with pytest.raises(GraphBuildError, match=r"unknown node 'zzz' \(nodes: 'a'\).*add_node"):
        builder.compile()


def test_start_edge_to_unknown_node() -> None:
    builder = StateGraph(State).add_node(a).add_edge(START, "nope")
    with pytest.raises(GraphBuildError, match=r"'__start__' -> 'nope' ends at unknown node 'nope'"):
        builder.compile()


def test_edge_from_unknown_node() -> None:
    builder = StateGraph(State).add_node(a).add_edge(START, "a").add_edge("nope", "a")
    with pytest.raises(GraphBuildError, match=r"'nope' -> 'a' starts at unknown node 'nope'"):
        builder.compile()


def test_join_from_unknown_node() -> None:
    builder = builder_ab().add_edge(["a", "nope"], "b")
    with pytest.raises(
        GraphBuildError, match=r"\['a', 'nope'\] -> 'b' starts at unknown node 'nope'"
    ):
        builder.compile()


def test_join_to_unknown_node() -> None:
    builder = builder_ab().add_edge(START, "b").add_edge(["a", "b"], "nope")
    with pytest.raises(
        GraphBuildError, match=r"\['a', 'b'\] -> 'nope' ends at unknown node 'nope'"
    ):
        builder.compile()


def test_conditional_edge_path_map_to_unknown_node() -> None:
    def route(state: State) -> str:
        return "x"

    builder = builder_ab().add_conditional_edges("a", route, {"x": "b", "y": "nope"})
    with pytest.raises(
        GraphBuildError, match=r"Conditional edge 'route' from 'a' ends at unknown node 'nope'"
    ):
        builder.compile()


def test_conditional_edge_path_map_list_to_unknown_node() -> None:
    builder = builder_ab().add_conditional_edges("a", lambda s: "b", ["b", "nope"])
    with pytest.raises(GraphBuildError, match=r"from 'a' ends at unknown node 'nope'"):
        builder.compile()


def test_conditional_edge_from_unknown_node() -> None:
    def route(state: State) -> str:
        return "a"

    builder = StateGraph(State).add_node(a).add_edge(START, "a")
    builder.add_conditional_edges("nope", route, ["a"])
    with pytest.raises(
        GraphBuildError, match=r"Conditional edge 'route' starts at unknown node 'nope'"
    ):
        builder.compile()


def test_declared_destination_to_unknown_node() -> None:
    builder = StateGraph(State).add_node(a, destinations=("nope",)).add_edge(START, "a")
    with pytest.raises(GraphBuildError) as info:
        builder.compile()
    assert str(info.value) == (
        "Node 'a' declares the destination 'nope', which is not a node (nodes: 'a'); "
        "add it with add_node() first"
    )


def test_unknown_nodes_are_only_reported_at_compile() -> None:
    # LangGraph accepts these edges and reports them at compile(); so does rillet.
    builder = StateGraph(State).add_edge("x", "y").add_edge(["x", "z"], "y")
    builder.add_conditional_edges("x", lambda s: "y", ["y"])
    with pytest.raises(GraphBuildError, match="unknown node 'x'"):
        builder.compile()


# ------------------------------------------------------------------ entry point


def test_no_entry_point() -> None:
    builder = StateGraph(State).add_node(a).add_edge("a", END)
    with pytest.raises(GraphBuildError, match=r"no entry point.*add_edge\(START, "):
        builder.compile()


def test_empty_graph_has_no_entry_point() -> None:
    with pytest.raises(GraphBuildError, match="no entry point"):
        StateGraph(State).compile()


# ----------------------------------------------------------------- reachability
# LangGraph's compile() does not check that every node can be reached: a node may be
# reached only by Command(goto=...) or Command.PARENT, which no edge names.


def test_a_node_no_edge_reaches_compiles() -> None:
    builder = StateGraph(State).add_node(a).add_node(b).add_node(c).add_edge(START, "a")
    builder.add_edge("a", "c")
    assert builder.compile().invoke({"v": 0}) == {"v": 0, "log": ["a", "c"]}


def test_a_node_reached_by_an_unannotated_command_compiles_and_runs() -> None:
    builder = StateGraph(State).add_node("a", go_to_b_unannotated).add_node(b)
    builder.add_edge(START, "a")
    assert builder.compile().invoke({"v": 0}) == {"v": 0, "log": ["a", "b"]}


def test_a_parent_node_reached_only_by_command_parent_compiles() -> None:
    def to_parent(state: State) -> Command[Any]:
        return Command(graph=Command.PARENT, goto="b")

    sub = StateGraph(State).add_node("up", to_parent).add_edge(START, "up").compile()
    builder = StateGraph(State).add_node("sub", sub).add_node(b).add_edge(START, "sub")
    assert isinstance(builder.compile(), CompiledStateGraph)


def test_node_reached_only_through_a_join_is_reachable() -> None:
    builder = builder_ab().add_node(c).add_edge(START, "b").add_edge(["a", "b"], "c")
    assert builder.compile().invoke({"v": 0}) == {"v": 0, "log": ["a", "b", "c"]}


def test_join_whose_source_no_edge_reaches_compiles() -> None:
    builder = builder_ab().add_node(c).add_edge(["a", "b"], "c")
    assert isinstance(builder.compile(), CompiledStateGraph)


def test_destinations_declared_on_add_node_make_the_target_reachable() -> None:
    builder = StateGraph(State).add_node("a", go_to_b_unannotated, destinations=("b",))
    builder.add_node(b).add_edge(START, "a")
    assert builder.compile().invoke({"v": 0}) == {"v": 0, "log": ["a", "b"]}


def test_destinations_may_be_a_single_name() -> None:
    builder = StateGraph(State).add_node("a", go_to_b_unannotated, destinations="b")
    builder.add_node(b).add_edge(START, "a")
    assert builder.compile().invoke({"v": 0}) == {"v": 0, "log": ["a", "b"]}


def test_command_literal_return_annotation_makes_the_target_reachable() -> None:
    builder = StateGraph(State).add_node("a", go_to_b).add_node(b).add_edge(START, "a")
    assert builder.compile().invoke({"v": 0}) == {"v": 0, "log": ["a", "b"]}


def test_destinations_on_a_subgraph_node_make_the_target_reachable() -> None:
    # A subgraph node reaches its parent's nodes with Command(graph=Command.PARENT):
    # destinations= declares that, for drawing.
    sub = StateGraph(State).add_node(a).add_edge(START, "a").compile()
    builder = StateGraph(State).add_node("sub", sub, destinations=("b",)).add_node(b)
    builder.add_edge(START, "sub")
    assert isinstance(builder.compile(), CompiledStateGraph)


def test_conditional_edge_without_path_map_makes_every_node_reachable() -> None:
    def route(state: State) -> str:
        return "c"

    builder = builder_ab().add_node(c).add_conditional_edges("a", route)
    graph = builder.compile()  # b is reachable as far as compile() can tell
    assert graph.invoke({"v": 0}) == {"v": 0, "log": ["a", "c"]}


def test_conditional_edge_returning_sends_without_path_map_compiles() -> None:
    def fan_out(state: State) -> list[Send]:
        return [Send("b", {"v": 1}), Send("b", {"v": 2})]

    graph = builder_ab().add_conditional_edges("a", fan_out).compile()
    assert graph.invoke({"v": 0}) == {"v": 0, "log": ["a", "b", "b"]}


def test_literal_annotation_of_a_path_function_leaving_out_a_node_compiles() -> None:
    def route(state: State) -> Literal["b", "__end__"]:
        return "b"

    builder = builder_ab().add_node(c).add_conditional_edges("a", route)
    assert builder.compile().invoke({"v": 0}) == {"v": 0, "log": ["a", "b"]}


def test_path_map_leaving_out_a_node_compiles() -> None:
    builder = builder_ab().add_node(c).add_conditional_edges("a", lambda s: "x", {"x": "b"})
    assert builder.compile().invoke({"v": 0}) == {"v": 0, "log": ["a", "b"]}


# ----------------------------------------------------------------------- names


@pytest.mark.parametrize("name", [START, END, "__start__", "__end__"])
def test_reserved_names(name: str) -> None:
    with pytest.raises(GraphBuildError, match=f"Node name '{name}' is reserved"):
        StateGraph(State).add_node(name, a)


def test_duplicate_name() -> None:
    builder = StateGraph(State).add_node(a)
    with pytest.raises(GraphBuildError, match=r"Node 'a' is already in the graph"):
        builder.add_node("a", b)


def test_duplicate_name_from_the_function_name() -> None:
    builder = StateGraph(State).add_node("a", b)
    with pytest.raises(GraphBuildError, match=r"Node 'a' is already in the graph"):
        builder.add_node(a)


@pytest.mark.parametrize(("name", "char"), [("a|b", r"\|"), ("a:b", ":")])
def test_names_with_namespace_separators(name: str, char: str) -> None:
    with pytest.raises(GraphBuildError, match=rf"Node name 'a{char}b' contains '{char}'"):
        StateGraph(State).add_node(name, a)


def test_empty_name() -> None:
    with pytest.raises(GraphBuildError, match=r"non-empty string, got ''"):
        StateGraph(State).add_node("", a)


def test_edge_into_start() -> None:
    builder = StateGraph(State).add_node(a)
    with pytest.raises(GraphBuildError, match="START cannot be the end of an edge"):
        builder.add_edge("a", START)
    with pytest.raises(GraphBuildError, match="START cannot be the end of an edge"):
        builder.add_edge(["a", "a"], START)


def test_edge_out_of_end() -> None:
    builder = StateGraph(State).add_node(a)
    with pytest.raises(GraphBuildError, match="END cannot be the start of an edge"):
        builder.add_edge(END, "a")
    with pytest.raises(GraphBuildError, match="END cannot be the start of an edge"):
        builder.add_edge(["a", END], "a")


# ------------------------------------------------------------------ type errors


@pytest.mark.parametrize(
    ("action", "kind"), [(5, "int"), ("not a function", "str"), (2.5, "float")]
)
def test_add_node_with_a_non_callable(action: Any, kind: str) -> None:
    with pytest.raises(
        TypeError, match=rf"add_node\('x', \.\.\.\): expected a function.*got {kind}"
    ):
        StateGraph(State).add_node("x", action)


def test_add_node_with_a_name_only() -> None:
    with pytest.raises(TypeError, match=r"add_node\('x'\): give the node's function"):
        StateGraph(State).add_node("x")


def test_node_function_without_a_parameter() -> None:
    def no_state() -> dict[str, Any]:
        return {}

    with pytest.raises(TypeError, match=r"'no_state' must take the state as its first parameter"):
        StateGraph(State).add_node(no_state)
    with pytest.raises(TypeError, match="must take the state as its first parameter"):
        StateGraph(State).add_node("lam", lambda: {})


def test_node_function_with_only_keyword_parameters() -> None:
    def kw_only(*, config: Any) -> dict[str, Any]:
        return {}

    with pytest.raises(TypeError, match=r"'kw_only' must take the state"):
        StateGraph(State).add_node(kw_only)


# --------------------------------------------------------------------- chaining


def test_builder_methods_return_the_builder() -> None:
    builder = StateGraph(State)
    assert builder.add_node(a) is builder
    assert builder.add_node("b", b) is builder
    assert builder.add_sequence([c]) is builder
    assert builder.add_edge(START, "a") is builder
    assert builder.add_edge(["a", "b"], "c") is builder
    assert builder.add_conditional_edges("a", lambda s: "b", ["b"]) is builder
    assert builder.set_entry_point("b") is builder
    assert builder.set_finish_point("c") is builder
    assert builder.set_conditional_entry_point(lambda s: END, [END]) is builder
    assert isinstance(builder.compile(), CompiledStateGraph)


def test_chained_build_runs() -> None:
    graph = (
        StateGraph(State)
        .add_node(a)
        .add_node(b)
        .add_edge(START, "a")
        .add_edge("a", "b")
        .add_edge("b", END)
        .compile()
    )
    assert list(graph.stream({"v": 1})) == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}]


def test_add_sequence_adds_nodes_and_edges_in_order() -> None:
    builder = StateGraph(State).add_sequence([a, ("second", b), c]).add_edge(START, "a")
    graph = builder.compile()
    assert list(graph.stream({"v": 0})) == [
        {"a": {"log": ["a"]}},
        {"second": {"log": ["b"]}},
        {"c": {"log": ["c"]}},
    ]


def test_add_sequence_of_nothing() -> None:
    with pytest.raises(GraphBuildError, match=r"add_sequence\(\) needs at least one node"):
        StateGraph(State).add_sequence([])


def test_set_entry_point_and_set_finish_point() -> None:
    graph = (
        StateGraph(State)
        .add_node(a)
        .add_node(b)
        .set_entry_point("a")
        .add_edge("a", "b")
        .set_finish_point("b")
        .compile()
    )
    assert list(graph.stream({"v": 0})) == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}]


def test_set_conditional_entry_point_with_a_path_map() -> None:
    def pick(state: State) -> str:
        return "second" if state["v"] else "first"

    graph = (
        StateGraph(State)
        .add_node(a)
        .add_node(b)
        .set_conditional_entry_point(pick, {"first": "a", "second": "b"})
        .compile()
    )
    assert list(graph.stream({"v": 0})) == [{"a": {"log": ["a"]}}]
    assert list(graph.stream({"v": 1})) == [{"b": {"log": ["b"]}}]


def test_set_conditional_entry_point_to_an_unknown_node() -> None:
    builder = StateGraph(State).add_node(a).set_conditional_entry_point(lambda s: "a", ["nope"])
    with pytest.raises(GraphBuildError, match="ends at unknown node 'nope'"):
        builder.compile()


def test_node_name_comes_from_the_function_name() -> None:
    graph = StateGraph(State).add_node(a).add_edge(START, "a").compile()
    assert list(graph.nodes) == ["a"]


def test_adding_a_node_after_compile_warns_and_leaves_the_compiled_graph_alone() -> None:
    builder = StateGraph(State).add_node(a).add_edge(START, "a")
    graph = builder.compile()
    with pytest.warns(UserWarning, match="already been compiled"):
        builder.add_node(b)
    assert list(graph.nodes) == ["a"]
    assert graph.invoke({"v": 0}) == {"v": 0, "log": ["a"]}


# ----------------------------------------------------------------- state schema


def test_state_schema_that_is_not_a_class() -> None:
    with pytest.raises(UsageError, match=r"expected a TypedDict, dataclass or pydantic"):
        StateGraph(5)  # type: ignore[arg-type]


def test_state_schema_that_is_a_plain_class_without_annotations() -> None:
    class Plain:
        pass

    with pytest.raises(
        GraphBuildError, match=r"StateGraph\(Plain\): the state must be a TypedDict, a dataclass"
    ):
        StateGraph(Plain)


def test_state_schema_typeddict_without_keys() -> None:
    class Empty(TypedDict):
        pass

    with pytest.raises(GraphBuildError, match=r"State Empty has no keys"):
        StateGraph(Empty)


def test_state_schema_dataclass_without_fields() -> None:
    @dataclasses.dataclass
    class Nothing:
        pass

    with pytest.raises(GraphBuildError, match=r"State Nothing has no keys"):
        StateGraph(Nothing)
