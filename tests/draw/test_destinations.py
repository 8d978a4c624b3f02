"""``add_node(..., destinations=...)`` and ``-> Command[Literal[...]]`` in drawings:
a dict ``{node: label}`` labels the drawn edges. Every expected string and edge list
was checked against LangGraph 1.2.22's output for the same graph."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

import pytest

from rillet.draw import Edge
from rillet.errors import GraphBuildError
from rillet.graph import END, START, CompiledStateGraph, StateGraph
from rillet.types import Command
from tests.draw.mermaid_common import mermaid


class S(TypedDict):
    x: int


def a(state: S) -> Command[Literal["b", "c", "__end__"]]:
    return Command(goto="b")


def b(state: S) -> dict[str, Any]:
    return {"x": 1}


def c(state: S) -> dict[str, Any]:
    return {"x": 2}


def pre(state: S) -> Command[Literal["sub", "post"]]:
    return Command(goto="sub")


def fan(dest: Any) -> CompiledStateGraph:
    """``a`` (declaring ``dest``) may go to ``b`` or ``c``; both end the run."""
    return (
        StateGraph(S)
        .add_node("a", lambda s: Command(goto="b"), destinations=dest)
        .add_node("b", b)
        .add_node("c", c)
        .add_edge(START, "a")
        .compile()
    )


def annotated(dest: Any = None) -> CompiledStateGraph:
    """``a`` annotated ``-> Command[Literal["b", "c", "__end__"]]``; ``b`` leads to ``c``."""
    builder = StateGraph(S)
    builder.add_node("a", a, destinations=dest)
    return builder.add_node("b", b).add_node("c", c).add_edge(START, "a").add_edge(
        "b", "c").compile()


def outer(labelled: bool) -> CompiledStateGraph:
    sub = annotated({"b": "to b", "c": "to c"} if labelled else None)
    dest = {"sub": "into", "post": "skip"} if labelled else None
    return (
        StateGraph(S)
        .add_node("pre", pre, destinations=dest)
        .add_node("sub", sub)
        .add_node("post", c)
        .add_edge(START, "pre")
        .add_edge("sub", "post")
        .compile()
    )


FAN_NODES = ("__start__([<p>__start__</p>]):::first", "a(a)", "b(b)", "c(c)",
             "__end__([<p>__end__</p>]):::last", "__start__ --> a;")


@pytest.mark.parametrize("dest", [("b", "c"), ["b", "c"], {"b", "c"}, {"b": "b", "c": "c"},
                                  {"b": None, "c": None}])
def test_names_without_labels_draw_plain_conditional_edges(dest: Any) -> None:
    assert fan(dest).get_graph().draw_mermaid() == mermaid(
        *FAN_NODES, "a -.-> b;", "a -.-> c;", "b --> __end__;", "c --> __end__;"
    )


def test_a_dict_labels_the_edges() -> None:
    drawing = fan({"b": "go b", "c": "go c"}).get_graph()
    assert drawing.draw_mermaid() == mermaid(
        *FAN_NODES,
        "a -. &nbsp;go b&nbsp; .-> b;",
        "a -. &nbsp;go c&nbsp; .-> c;",
        "b --> __end__;",
        "c --> __end__;",
    )
    assert drawing.edges == [
        Edge("__start__", "a", None, False),
        Edge("a", "b", "go b", True),
        Edge("a", "c", "go c", True),
        Edge("b", "__end__", None, False),
        Edge("c", "__end__", None, False),
    ]


def test_a_label_that_is_not_a_str_is_kept_as_given() -> None:
    assert fan({"b": 1}).get_graph().edges == [
        Edge("__start__", "a", None, False),
        Edge("a", "b", 1, True),
        Edge("b", "__end__", None, False),
    ]


def test_one_name_and_an_empty_dict() -> None:
    assert fan("b").get_graph().edges == [
        Edge("__start__", "a", None, False),
        Edge("a", "b", None, True),
        Edge("b", "__end__", None, False),
    ]
    assert fan({}).get_graph().edges == [
        Edge("__start__", "a", None, False),
        Edge("a", "__end__", None, False),
    ]


def test_a_label_to_end_and_a_node_nothing_leads_to() -> None:
    # c is drawn with no edge at all, so the drawing has no first or last node.
    assert fan({"b": "go b", END: "stop"}).get_graph().draw_mermaid() == mermaid(
        "__start__(<p>__start__</p>)",
        "a(a)",
        "b(b)",
        "c(c)",
        "__end__(<p>__end__</p>)",
        "__start__ --> a;",
        "a -. &nbsp;stop&nbsp; .-> __end__;",
        "a -. &nbsp;go b&nbsp; .-> b;",
        "b --> __end__;",
    )


@pytest.mark.parametrize("dest", [{"zz": "nope"}, ("zz",)])
def test_an_unknown_destination_fails_at_compile(dest: Any) -> None:
    builder = StateGraph(S).add_node("a", b, destinations=dest).add_edge(START, "a")
    with pytest.raises(GraphBuildError) as info:
        builder.compile()
    assert str(info.value) == (
        "Node 'a' declares the destination 'zz', which is not a node (nodes: 'a'); add it "
        "with add_node() first"
    )


def test_the_command_annotation_gives_the_destinations() -> None:
    assert annotated().get_graph().draw_mermaid() == mermaid(
        *FAN_NODES, "a -.-> __end__;", "a -.-> b;", "a -.-> c;", "b --> c;", "c --> __end__;"
    )


def test_labels_given_replace_the_annotation() -> None:
    assert annotated({"b": "to b", "c": "to c"}).get_graph().draw_mermaid() == mermaid(
        *FAN_NODES,
        "a -. &nbsp;to b&nbsp; .-> b;",
        "a -. &nbsp;to c&nbsp; .-> c;",
        "b --> c;",
        "c --> __end__;",
    )


def test_xray_draws_the_subgraph_labels() -> None:
    drawing = outer(labelled=True).get_graph(xray=True)
    assert drawing.draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "pre(pre)",
        "post(post)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> pre;",
        "pre -. &nbsp;skip&nbsp; .-> post;",
        "pre -. &nbsp;into&nbsp; .-> sub\\3aa;",
        "sub\\3ac --> post;",
        "post --> __end__;",
        "subgraph sub",
        "sub\\3aa(a)",
        "sub\\3ab(b)",
        "sub\\3ac(c)",
        "sub\\3aa -. &nbsp;to b&nbsp; .-> sub\\3ab;",
        "sub\\3aa -. &nbsp;to c&nbsp; .-> sub\\3ac;",
        "sub\\3ab --> sub\\3ac;",
        "end",
    )
    assert drawing.edges == [
        Edge("__start__", "pre", None, False),
        Edge("pre", "post", "skip", True),
        Edge("pre", "sub:a", "into", True),
        Edge("sub:c", "post", None, False),
        Edge("post", "__end__", None, False),
        Edge("sub:a", "sub:b", "to b", True),
        Edge("sub:a", "sub:c", "to c", True),
        Edge("sub:b", "sub:c", None, False),
    ]


def test_xray_of_annotated_destinations_two_levels_deep() -> None:
    top = StateGraph(S).add_node("outer", outer(labelled=False)).add_edge(START, "outer")
    assert top.compile().get_graph(xray=True).draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> outer\\3apre;",
        "outer\\3apost --> __end__;",
        "subgraph outer",
        "outer\\3apre(pre)",
        "outer\\3apost(post)",
        "outer\\3apre -.-> outer\\3apost;",
        "outer\\3apre -.-> outer\\3asub\\3aa;",
        "outer\\3asub\\3a__end__ --> outer\\3apost;",
        "subgraph sub",
        "outer\\3asub\\3aa(a)",
        "outer\\3asub\\3ab(b)",
        "outer\\3asub\\3ac(c)",
        "outer\\3asub\\3a__end__(<p>__end__</p>)",
        "outer\\3asub\\3aa -.-> outer\\3asub\\3a__end__;",
        "outer\\3asub\\3aa -.-> outer\\3asub\\3ab;",
        "outer\\3asub\\3aa -.-> outer\\3asub\\3ac;",
        "outer\\3asub\\3ab --> outer\\3asub\\3ac;",
        "outer\\3asub\\3ac --> outer\\3asub\\3a__end__;",
        "end",
        "end",
    )
    assert top.compile().get_graph(xray=1).draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> outer\\3apre;",
        "outer\\3apost --> __end__;",
        "subgraph outer",
        "outer\\3apre(pre)",
        "outer\\3asub(sub)",
        "outer\\3apost(post)",
        "outer\\3apre -.-> outer\\3apost;",
        "outer\\3apre -.-> outer\\3asub;",
        "outer\\3asub --> outer\\3apost;",
        "end",
    )


def test_a_labelled_command_node_runs_as_any_other() -> None:
    assert fan({"b": "go b", "c": "go c"}).invoke({"x": 0}) == {"x": 1}
