"""``get_graph()``'s nodes and edges, shaped like LangGraph's drawable graph."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, TypedDict

import pytest

from rillet.draw import DrawableGraph, Edge, Node
from rillet.graph import END, START, MessagesState, StateGraph
from rillet.models import FakeChatModel
from rillet.prebuilt import ToolNode, create_react_agent
from rillet.tools import tool


class State(TypedDict):
    topic: str


def noop(state: Any) -> dict[str, Any]:
    return {}


def route(state: Any) -> str:
    return "end"


def react_shape() -> Any:
    return (
        StateGraph(MessagesState)
        .add_node("model", noop)
        .add_node("tools", noop)
        .add_edge(START, "model")
        .add_conditional_edges("model", route, {"continue": "tools", "end": END})
        .add_edge("tools", "model")
        .compile()
    )


def test_nodes_and_edges() -> None:
    drawing = react_shape().get_graph()
    assert isinstance(drawing, DrawableGraph)
    assert list(drawing.nodes) == [START, "model", "tools", END]
    assert [(n.id, n.name, n.metadata) for n in drawing.nodes.values()] == [
        (START, START, None),
        ("model", "model", None),
        ("tools", "tools", None),
        (END, END, None),
    ]
    assert drawing.nodes["model"].data is noop
    assert drawing.edges == [
        Edge(START, "model", None, False),
        Edge("model", END, "end", True),
        Edge("model", "tools", "continue", True),
        Edge("tools", "model", None, False),
    ]
    assert drawing.first_node() == drawing.nodes[START]
    assert drawing.last_node() == drawing.nodes[END]


def test_edge_fields_follow_langchain() -> None:
    edge = Edge("a", "b")
    assert (edge.source, edge.target, edge.data, edge.conditional) == ("a", "b", None, False)
    node = Node("a", "a")
    assert (node.id, node.name, node.data, node.metadata) == ("a", "a", None, None)


def test_a_node_without_outgoing_edges_goes_to_end() -> None:
    graph = StateGraph(State).add_node("only", noop).add_edge(START, "only").compile()
    assert graph.get_graph().edges == [Edge(START, "only"), Edge("only", END)]


@tool
def lookup(query: str) -> str:
    """Look something up."""
    return query


def test_tool_nodes_list_their_tools_in_metadata() -> None:
    agent = create_react_agent(FakeChatModel(["done"]), tools=[lookup])
    drawing = agent.get_graph()
    assert drawing.nodes["tools"].metadata == {"__tools": ["lookup"]}
    assert isinstance(drawing.nodes["tools"].data, ToolNode)
    assert drawing.nodes["agent"].metadata is None


def test_subgraph_node_ids_are_prefixed_with_xray() -> None:
    sub = (
        StateGraph(State)
        .add_node("x", noop)
        .add_node("y", noop)
        .add_edge(START, "x")
        .add_edge("x", "y")
        .compile()
    )
    graph = (
        StateGraph(State)
        .add_node("outer", sub)
        .add_edge(START, "outer")
        .add_edge("outer", END)
        .compile()
    )
    plain = graph.get_graph()
    assert list(plain.nodes) == [START, "outer", END]
    assert plain.nodes["outer"].data is sub
    drawing = graph.get_graph(xray=True)
    assert list(drawing.nodes) == [START, END, "outer:x", "outer:y"]
    assert drawing.nodes["outer:x"].name == "x"
    assert drawing.edges == [
        Edge(START, "outer:x"),
        Edge("outer:y", END),
        Edge("outer:x", "outer:y"),
    ]


def test_drawing_is_deterministic() -> None:
    first = react_shape().get_graph()
    second = react_shape().get_graph()
    assert first.draw_mermaid() == second.draw_mermaid()
    assert first.draw_ascii() == second.draw_ascii()
    assert first.to_dot() == second.to_dot()


def test_extend_and_trim_behave_like_langchain() -> None:
    graph = DrawableGraph()
    for name in ("s", "a", "e"):
        graph.add_node(None, name)
    graph.add_edge("s", "a")
    graph.add_edge("a", "e")
    graph.trim_first_node()
    graph.trim_last_node()
    assert list(graph.nodes) == ["a"]
    host = DrawableGraph()
    host.add_node(None, "h")
    inner = DrawableGraph()
    inner.add_node(None, "p")
    inner.add_node(None, "q")
    inner.add_edge("p", "q", "label", True)
    first, last = host.extend(inner, prefix="n")
    assert (first and first.id, last and last.id) == ("n:p", "n:q")
    assert host.edges == [Edge("n:p", "n:q", "label", True)]
    with pytest.raises(ValueError, match="already exists"):
        host.add_node(None, "h")
    with pytest.raises(ValueError, match="not in graph"):
        host.add_edge("h", "missing")


def test_import_rillet_graph_imports_no_drawing_code() -> None:
    code = (
        "import sys, rillet.graph\n"
        "print(sorted(m for m in sys.modules if m.startswith('rillet.draw')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
