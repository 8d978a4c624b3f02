"""Draw compiled graphs: ``graph.get_graph().draw_mermaid()``, ``.draw_ascii()``,
``.draw_png()``.

``CompiledStateGraph.get_graph(xray=False)`` returns a :class:`DrawableGraph` shaped
like LangGraph's (``nodes``, ``edges``, ``draw_mermaid()`` with the same text). PNGs
are rendered locally by Graphviz's ``dot`` program, never through a web service;
without Graphviz installed, ``draw_png()`` raises :class:`GraphvizNotFoundError`
saying how to install it. Nothing here is imported by ``import rillet.graph``.
"""

from rillet.draw._build import build_graph
from rillet.draw._graph import CurveStyle, DrawableGraph, Edge, Node, NodeStyles
from rillet.errors import GraphvizNotFoundError

__all__ = [
    "CurveStyle",
    "DrawableGraph",
    "Edge",
    "GraphvizNotFoundError",
    "Node",
    "NodeStyles",
    "build_graph",
]
