"""Names that Mermaid cannot take as they are: a newline in a node name or an edge
label becomes ``<br>``, so the line it is on stays one line."""

from __future__ import annotations

from typing import Any

import pytest

from rillet.errors import GraphBuildError
from rillet.graph import START, StateGraph
from tests.draw.mermaid_common import State, mermaid, noop


def test_a_newline_in_a_node_name_is_a_line_break_in_its_label() -> None:
    graph = StateGraph(State).add_node("first\nstep", noop).add_edge(START, "first\nstep")
    assert graph.compile().get_graph().draw_mermaid() == mermaid(
        "__start__([<p>__start__</p>]):::first",
        "first\\astep(first<br>step)",
        "__end__([<p>__end__</p>]):::last",
        "__start__ --> first\\astep;",
        "first\\astep --> __end__;",
    )


def test_a_carriage_return_too() -> None:
    graph = StateGraph(State).add_node("a\r\nb", noop).add_edge(START, "a\r\nb")
    text = graph.compile().get_graph().draw_mermaid()
    assert "\ta\\d\\ab(a<br>b)\n" in text
    assert "\r" not in text


def test_a_newline_in_an_edge_label_is_a_line_break() -> None:
    def route(state: Any) -> str:
        return "yes\nplease"

    graph = (
        StateGraph(State)
        .add_node("a", noop)
        .add_node("b", noop)
        .add_edge(START, "a")
        .add_conditional_edges("a", route, {"yes\nplease": "b", "__end__": "__end__"})
        .compile()
    )
    text = graph.get_graph().draw_mermaid()
    assert "\ta -. &nbsp;yes<br>please&nbsp; .-> b;\n" in text


def test_a_duplicate_subgraph_is_a_graph_build_error() -> None:
    from rillet.draw import DrawableGraph

    drawing = DrawableGraph()
    for node in ("a:x", "a:y", "b:p", "b:q", "b:a:x", "b:a:y"):
        drawing.add_node(None, node)
    drawing.add_edge("a:x", "a:y")
    drawing.add_edge("b:p", "b:q")
    drawing.add_edge("b:a:x", "b:a:y")
    with pytest.raises(GraphBuildError, match=r"^Found duplicate subgraph 'a'"):
        drawing.draw_mermaid()
