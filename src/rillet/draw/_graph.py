"""``DrawableGraph``: the nodes and edges of a compiled graph, ready to draw.

The shape is LangChain's ``langchain_core.runnables.graph.Graph`` (what LangGraph's
``get_graph()`` returns): ``nodes`` is a dict of :class:`Node` by id, ``edges`` a list
of :class:`Edge`, and the helpers that find, trim and splice first and last nodes
behave the same, so drawings of nested graphs come out the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the drawing: ``id`` is unique (``parent:child`` inside an expanded
    subgraph), ``name`` is what is shown."""

    id: str
    name: str
    data: Any = None
    """What runs at this node: the function, runnable object or compiled subgraph."""
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Edge:
    """An edge of the drawing. ``data`` is the label (a path map key that differs from
    the target's name); ``conditional`` edges may or may not be taken."""

    source: str
    target: str
    data: Any = None
    conditional: bool = False


class CurveStyle(Enum):
    """Mermaid's edge curve styles."""

    BASIS = "basis"
    BUMP_X = "bumpX"
    BUMP_Y = "bumpY"
    CARDINAL = "cardinal"
    CATMULL_ROM = "catmullRom"
    LINEAR = "linear"
    MONOTONE_X = "monotoneX"
    MONOTONE_Y = "monotoneY"
    NATURAL = "natural"
    STEP = "step"
    STEP_AFTER = "stepAfter"
    STEP_BEFORE = "stepBefore"


@dataclass(frozen=True, slots=True)
class NodeStyles:
    """Styles of the three kinds of node (Mermaid ``classDef`` bodies)."""

    default: str = "fill:#f2f0ff,line-height:1.2"
    first: str = "fill-opacity:0"
    last: str = "fill:#bfb6fc"


@dataclass
class DrawableGraph:
    """A graph to draw: ``draw_mermaid()``, ``draw_ascii()``, ``draw_svg()``, ``draw_png()``,
    ``to_dot()``.

    Returned by ``CompiledStateGraph.get_graph()``. Nothing here reaches the network:
    PNGs are rendered by the local Graphviz ``dot`` program.
    """

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.nodes)

    # ------------------------------------------------------------ building

    def add_node(self, data: Any, id: str, *, metadata: dict[str, Any] | None = None) -> Node:
        """Add a node named after its ``id``.

        :raises ValueError: if a node with this id is already in the graph.
        """
        if id in self.nodes:
            raise ValueError(f"Node with id {id} already exists")
        node = Node(id=id, name=id, data=data, metadata=metadata)
        self.nodes[id] = node
        return node

    def add_edge(
        self, source: str, target: str, data: Any = None, conditional: bool = False
    ) -> Edge:
        """Add an edge between two nodes already in the graph.

        :raises ValueError: if either end is not in the graph.
        """
        for end in (source, target):
            if end not in self.nodes:
                raise ValueError(f"Node {end} not in graph")
        edge = Edge(source, target, data, conditional)
        self.edges.append(edge)
        return edge

    def remove_node(self, node: Node) -> None:
        """Remove a node and every edge touching it."""
        self.nodes.pop(node.id)
        self.edges = [e for e in self.edges if node.id not in (e.source, e.target)]

    def extend(self, graph: DrawableGraph, *, prefix: str = "") -> tuple[Node | None, Node | None]:
        """Add another graph's nodes and edges, their ids prefixed with ``prefix:``.

        Returns the (prefixed) first and last nodes of ``graph``; connects nothing.
        """

        def prefixed(id_: str) -> str:
            return f"{prefix}:{id_}" if prefix else id_

        for key, node in graph.nodes.items():
            self.nodes[prefixed(key)] = replace(node, id=prefixed(key))
        self.edges.extend(
            replace(e, source=prefixed(e.source), target=prefixed(e.target)) for e in graph.edges
        )
        first, last = graph.first_node(), graph.last_node()
        return (
            replace(first, id=prefixed(first.id)) if first else None,
            replace(last, id=prefixed(last.id)) if last else None,
        )

    # ------------------------------------------------------- first and last

    def first_node(self) -> Node | None:
        """The only node no edge leads to; ``None`` when there are none or several."""
        return _first_node(self)

    def last_node(self) -> Node | None:
        """The only node no edge leaves; ``None`` when there are none or several."""
        return _last_node(self)

    def trim_first_node(self) -> None:
        """Remove the first node if it has one outgoing edge and another node would
        then be first."""
        first = self.first_node()
        if (
            first
            and _first_node(self, exclude=(first.id,))
            and len({e for e in self.edges if e.source == first.id}) == 1
        ):
            self.remove_node(first)

    def trim_last_node(self) -> None:
        """Remove the last node if it has one incoming edge and another node would
        then be last."""
        last = self.last_node()
        if (
            last
            and _last_node(self, exclude=(last.id,))
            and len({e for e in self.edges if e.target == last.id}) == 1
        ):
            self.remove_node(last)

    # ------------------------------------------------------------- drawing

    def draw_mermaid(
        self,
        *,
        with_styles: bool = True,
        curve_style: CurveStyle = CurveStyle.LINEAR,
        node_colors: NodeStyles | None = None,
        wrap_label_n_words: int = 9,
        frontmatter_config: Mapping[str, Any] | None = None,
    ) -> str:
        """Mermaid flowchart text, character for character what LangGraph draws."""
        from rillet.draw._mermaid import draw_mermaid

        first, last = self.first_node(), self.last_node()
        return draw_mermaid(
            self.nodes,
            self.edges,
            first_node=first.id if first else None,
            last_node=last.id if last else None,
            with_styles=with_styles,
            curve_style=curve_style,
            node_styles=node_colors or NodeStyles(),
            wrap_label_n_words=wrap_label_n_words,
            frontmatter_config=frontmatter_config,
        )

    def draw_ascii(self) -> str:
        """Boxes and connectors in plain text, one row of boxes per layer.

        Solid edges are drawn with ``*``, conditional ones with ``.``; edges that go
        back up (loops) run up the right margin into the node they return to (``<``).
        """
        from rillet.draw._ascii import draw_ascii

        return draw_ascii(self.nodes, self.edges)

    def draw_svg(self) -> str:
        """An SVG document in pure Python (no Graphviz): the layout of
        :meth:`draw_ascii`, conditional edges dashed, expanded subgraphs framed; each
        node a ``<g class="node" data-node="ID">``."""
        from rillet.draw._svg import draw_svg

        return draw_svg(self.nodes, self.edges)

    def print_ascii(self) -> None:
        """Print :meth:`draw_ascii`."""
        print(self.draw_ascii())

    def to_dot(
        self, *, fontname: str | None = None, labels: Mapping[str, Any] | None = None
    ) -> str:
        """Graphviz DOT text: conditional edges dotted, ``__start__``/``__end__`` as
        ovals, expanded subgraphs as clusters. ``labels`` renames nodes and edge labels:
        ``{"nodes": {"id": "Shown"}, "edges": {"label": "Shown"}}``."""
        from rillet.draw._dot import to_dot

        return to_dot(self, fontname=fontname, labels=labels)

    def draw_png(
        self,
        output_file_path: str | None = None,
        fontname: str | None = None,
        labels: Mapping[str, Any] | None = None,
    ) -> bytes:
        """Render :meth:`to_dot` to PNG with the local Graphviz ``dot`` program.

        Returns the PNG bytes, and also writes them to ``output_file_path`` if given.

        :raises GraphvizNotFoundError: if ``dot`` is not installed (the message says how
            to install it).
        """
        from rillet.draw._dot import render_png

        return render_png(self.to_dot(fontname=fontname, labels=labels), output_file_path)

    def draw_mermaid_png(
        self,
        *,
        output_file_path: str | None = None,
        background_color: str | None = "white",
        padding: int = 10,
        **mermaid_options: Any,
    ) -> bytes:
        """The same picture as :meth:`draw_png`, for code written against LangGraph.

        LangGraph sends the Mermaid text to the mermaid.ink web service; rillet never
        uses the network, so this renders locally with Graphviz instead (the layout
        differs from Mermaid's, the nodes and edges are the same). LangGraph's
        Mermaid-only options (``curve_style``, ``draw_method``, ``max_retries`` ...) are
        accepted and ignored.

        :raises GraphvizNotFoundError: if Graphviz's ``dot`` is not installed.
        :raises TypeError: for an option LangGraph's ``draw_mermaid_png`` does not have.
        """
        from rillet.draw._dot import MERMAID_PNG_OPTIONS, render_png, to_dot

        unknown = sorted(set(mermaid_options) - MERMAID_PNG_OPTIONS)
        if unknown:
            raise TypeError(f"draw_mermaid_png() got unexpected keyword argument(s): {unknown}")
        dot = to_dot(self, background_color=background_color, padding=padding)
        return render_png(dot, output_file_path)


def _first_node(graph: DrawableGraph, exclude: Sequence[str] = ()) -> Node | None:
    targets = {e.target for e in graph.edges if e.source not in exclude}
    found = [n for n in graph.nodes.values() if n.id not in exclude and n.id not in targets]
    return found[0] if len(found) == 1 else None


def _last_node(graph: DrawableGraph, exclude: Sequence[str] = ()) -> Node | None:
    sources = {e.source for e in graph.edges if e.target not in exclude}
    found = [n for n in graph.nodes.values() if n.id not in exclude and n.id not in sources]
    return found[0] if len(found) == 1 else None
