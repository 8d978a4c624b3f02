"""``draw_svg()``: the text drawing's layout as SVG, in pure Python."""

from __future__ import annotations

import xml.dom.minidom
from typing import Any, TypedDict

from rillet.draw import DrawableGraph
from rillet.graph import END, START, StateGraph


class State(TypedDict):
    x: int


def noop(state: Any) -> dict[str, Any]:
    return {}


def test_a_chain_exactly() -> None:
    graph = StateGraph(State).add_node("a", noop).add_edge(START, "a").add_edge("a", END)
    edge = ('<polyline class="edge" points="{}" fill="none" stroke="#6b6490" '
            'stroke-width="1.2" marker-end="url(#arrow)"/>')
    box = ('<g class="node" data-node="{0}"><title>{0}</title><rect x="{1}" y="{2}" '
           'width="{3}" height="34" rx="{4}" fill="{5}" stroke="#6b6490" stroke-width="1.2"/>'
           '<text x="68" y="{6}" text-anchor="middle" font-family="system-ui, sans-serif" '
           'font-size="13" fill="#1d1a33">{0}</text></g>')
    assert graph.compile().get_graph().draw_svg() == (
        '<svg xmlns="http://www.w3.org/2000/svg" width="136" height="234" '
        'viewBox="0 0 136 234" role="img" aria-label="graph drawing"><defs><marker '
        'id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6b6490"/></marker>'
        "</defs>"
        + edge.format("68,50 68,100") + edge.format("68,134 68,184")
        + box.format("__start__", 16, 16, 104, 17, "#ffffff", 37.5)
        + box.format("a", 48, 100, 40, 6, "#f2f0ff", 121.5)
        + box.format("__end__", 24, 184, 88, 17, "#bfb6fc", 205.5)
        + "</svg>"
    )


def parse(svg: str) -> xml.dom.minidom.Document:
    return xml.dom.minidom.parseString(svg)


def test_conditional_edges_loops_and_labels() -> None:
    graph = (
        StateGraph(State).add_node("work", noop).add_node("check", noop)
        .add_edge(START, "work").add_edge("work", "check")
        .add_conditional_edges("check", lambda s: "again", {"again": "work", "stop": END})
        .compile()
    )
    doc = parse(graph.get_graph().draw_svg())
    edges = doc.getElementsByTagName("polyline") + doc.getElementsByTagName("path")[1:]
    dashed = [e for e in edges if e.getAttribute("stroke-dasharray")]
    assert len(edges) == 4
    assert len(dashed) == 2  # check -> work (a loop, up the margin) and check -> __end__
    loop = doc.getElementsByTagName("path")[1]
    assert loop.getAttribute("d").startswith("M") and " V" in loop.getAttribute("d")
    labels = [t.firstChild.data for t in doc.getElementsByTagName("text")]
    assert "again" in labels and "stop" in labels


def test_an_expanded_subgraph_is_framed() -> None:
    inner = StateGraph(State).add_node("step", noop).add_edge(START, "step").compile()
    outer = (StateGraph(State).add_node("sub", inner).add_node("last", noop)
             .add_edge(START, "sub").add_edge("sub", "last").compile())
    doc = parse(outer.get_graph(xray=True).draw_svg())
    nodes = [g.getAttribute("data-node") for g in doc.getElementsByTagName("g")
             if g.getAttribute("class") == "node"]
    frames = [g for g in doc.getElementsByTagName("g") if g.getAttribute("class") == "subgraph"]
    assert nodes == ["__start__", "last", "__end__", "sub:step"]
    assert [f.getAttribute("data-subgraph") for f in frames] == ["sub"]
    assert frames[0].getElementsByTagName("text")[0].firstChild.data == "sub"
    flat = parse(outer.get_graph().draw_svg())
    assert not [g for g in flat.getElementsByTagName("g") if g.getAttribute("class") == "subgraph"]


def test_names_are_escaped_and_no_style_attributes() -> None:
    drawing = DrawableGraph()
    drawing.add_node(None, 'a<b>&"c"')
    svg = drawing.draw_svg()
    doc = parse(svg)
    assert doc.getElementsByTagName("text")[0].firstChild.data == 'a<b>&"c"'
    assert doc.getElementsByTagName("g")[0].getAttribute("data-node") == 'a<b>&"c"'
    assert "style=" not in svg  # a page with a strict Content-Security-Policy shows it


def test_an_empty_graph() -> None:
    assert parse(DrawableGraph().draw_svg()).documentElement.getAttribute("width") == "32"
