"""The structure of a compiled graph as LangGraph shows it: ``get_graph`` (a drawable
view) and ``get_subgraphs`` (the nodes that are graphs)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rillet.draw import DrawableGraph
    from rillet.graph._compiled import CompiledStateGraph
    from rillet.graph._node import NodeSpec


class StructureAPI:
    """What :class:`~rillet.graph._compiled.CompiledStateGraph` shows of its nodes."""

    nodes: dict[str, NodeSpec]

    def get_graph(
        self, config: dict[str, Any] | None = None, *, xray: bool | int = False
    ) -> DrawableGraph:
        """A drawable view of the graph: ``.draw_mermaid()``, ``.draw_ascii()``,
        ``.draw_png()`` (rendered locally with Graphviz), as LangGraph draws it.

        ``xray=True`` draws every subgraph's nodes inside its node; ``xray=N`` expands
        N levels of nesting. ``config`` is accepted for LangGraph compatibility and not
        used.
        """
        from rillet.draw import build_graph

        return build_graph(cast("CompiledStateGraph", self), xray)

    def get_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> Iterator[tuple[str, CompiledStateGraph]]:
        """``(node name, compiled graph)`` for each node that is a graph, as LangGraph
        lists them; ``namespace`` keeps the one at that ``|``-separated path of node
        names, ``recurse=True`` goes down into each (names joined with ``|``)."""
        for name, spec in self.nodes.items():
            sub = spec.subgraph
            if sub is None or (namespace is not None and not namespace.startswith(name)):
                continue
            if name == namespace:
                yield name, sub
                return
            if namespace is None:
                yield name, sub
            if recurse:
                rest = namespace[len(name) + 1 :] if namespace is not None else None
                for inner, graph in sub.get_subgraphs(namespace=rest, recurse=True):
                    yield f"{name}|{inner}", graph

    async def aget_subgraphs(
        self, *, namespace: str | None = None, recurse: bool = False
    ) -> AsyncIterator[tuple[str, CompiledStateGraph]]:
        """Async ``get_subgraphs``."""
        for item in self.get_subgraphs(namespace=namespace, recurse=recurse):
            yield item
