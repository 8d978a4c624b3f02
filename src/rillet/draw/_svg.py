"""An SVG drawing of a graph, in pure Python (no Graphviz, no network).

The layout is the text drawing's (:mod:`rillet.draw._ascii`: longest-path layers, loops
set aside, layers ordered and packed), measured in character columns and scaled to
pixels. Boxes are rounded rectangles (``__start__``/``__end__`` as pills), edges
straight segments through the long edges' waypoints, conditional ones dashed, loops
up the right margin. The nodes of an expanded subgraph (ids ``parent:child``) sit in a
labelled frame. Styling is by presentation attributes only (no ``style`` attributes),
so the drawing can be put in a page with a strict Content-Security-Policy; each node's
group has ``class="node"`` and ``data-node="ID"`` for the page to highlight it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from xml.sax.saxutils import escape, quoteattr

from rillet._constants import END, START
from rillet.draw._ascii import _Item, _layers, _order_layers, _place, _split_loops
from rillet.draw._graph import Edge, Node

_COLUMN = 8  # pixels per character column of the text layout
_BOX = 34  # box height
_PITCH = 84  # from one layer's top to the next
_MARGIN = 16
_FRAME = 10  # a subgraph frame's padding around its nodes
_FONT = 'font-family="system-ui, sans-serif"'
_LABEL = f'{_FONT} font-size="13"'
_SMALL = f'{_FONT} font-size="11"'


def draw_svg(nodes: Mapping[str, Node], edges: Sequence[Edge]) -> str:
    """The drawing as an ``<svg>`` document."""
    if not nodes:
        return _document(2 * _MARGIN, 2 * _MARGIN, [])
    order = list(nodes)
    unique: dict[tuple[str, str], Edge] = {}
    for edge in edges:
        unique.setdefault((edge.source, edge.target), edge)
    forward, loops = _split_loops(order, list(unique.values()))
    layer = _layers(order, forward)
    items = {key: _Item(key, nodes[key].name, layer[key]) for key in order}
    chains: list[tuple[list[str], Edge]] = []
    for edge in forward:
        path = [edge.source]
        for depth in range(layer[edge.source] + 1, layer[edge.target]):
            waypoint = f"{edge.source}->{edge.target}@{depth}"
            items[waypoint] = _Item(waypoint, None, depth)
            path.append(waypoint)
        path.append(edge.target)
        chains.append((path, edge))
    looped = {e.source for e in loops} | {e.target for e in loops}
    parents: dict[str, list[str]] = {key: [] for key in items}
    children: dict[str, list[str]] = {key: [] for key in items}
    for path, _ in chains:
        for a, b in pairwise(path):
            parents[b].append(a)
            children[a].append(b)
    rows = _order_layers(order, items, parents, looped)
    columns = _place(rows, parents, children)
    right = _MARGIN + columns * _COLUMN
    width = right + 14 * len(loops) + _MARGIN
    height = 2 * _MARGIN + (len(rows) - 1) * _PITCH + _BOX
    parts = _frames(nodes, items)
    for path, edge in chains:
        parts.append(_chain([items[key] for key in path], edge))
    for i, edge in enumerate(loops):
        parts.append(_loop(items[edge.source], items[edge.target], right + 14 * (i + 1), edge))
    for key in order:
        parts.append(_box(nodes[key], items[key]))
    return _document(width, height, parts)


def _document(width: int, height: int, parts: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="graph drawing">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#6b6490"/></marker></defs>'
    )
    return head + "".join(parts) + "</svg>"


def _left(item: _Item) -> float:
    return _MARGIN + item.x * _COLUMN


def _center(item: _Item) -> float:
    return _left(item) + item.width * _COLUMN / 2


def _top(item: _Item) -> float:
    return _MARGIN + item.layer * _PITCH


def _box(node: Node, item: _Item) -> str:
    x, y, w = _left(item), _top(item), item.width * _COLUMN
    edge_node = node.id in (START, END)
    fill = {START: "#ffffff", END: "#bfb6fc"}.get(node.id, "#f2f0ff")
    radius = _BOX / 2 if edge_node else 6
    return (
        f'<g class="node" data-node={quoteattr(node.id)}><title>{escape(node.id)}</title>'
        f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{_BOX}" rx="{radius:g}" '
        f'fill="{fill}" stroke="#6b6490" stroke-width="1.2"/>'
        f'<text x="{x + w / 2:g}" y="{y + _BOX / 2 + 4.5:g}" text-anchor="middle" {_LABEL} '
        f'fill="#1d1a33">{escape(node.name)}</text></g>'
    )


def _dash(edge: Edge) -> str:
    return ' stroke-dasharray="5 4"' if edge.conditional else ""


def _chain(path: list[_Item], edge: Edge) -> str:
    """An edge down from its source through its waypoints to its target."""
    points = [(_center(path[0]), _top(path[0]) + _BOX)]
    for item in path[1:-1]:
        points += [(_center(item), _top(item)), (_center(item), _top(item) + _BOX)]
    points.append((_center(path[-1]), _top(path[-1])))
    drawn = " ".join(f"{x:g},{y:g}" for x, y in points)
    out = (f'<polyline class="edge" points="{drawn}" fill="none" stroke="#6b6490" '
           f'stroke-width="1.2"{_dash(edge)} marker-end="url(#arrow)"/>')
    if edge.data is not None:
        (x0, y0), (x1, y1) = points[0], points[1]
        out += (f'<text x="{(x0 + x1) / 2 + 4:g}" y="{(y0 + y1) / 2 + 4:g}" {_SMALL} '
                f'fill="#4b4670">{escape(str(edge.data))}</text>')
    return out


def _loop(a: _Item, b: _Item, column: float, edge: Edge) -> str:
    """An edge back up (or to itself): right, up the margin column, left into ``b``."""
    out_y = _top(a) + _BOX * (0.7 if a is b else 0.5)
    in_y = _top(b) + _BOX * (0.3 if a is b else 0.5)
    a_right, b_right = _left(a) + a.width * _COLUMN, _left(b) + b.width * _COLUMN
    d = f"M{a_right:g},{out_y:g} H{column:g} V{in_y:g} H{b_right:g}"
    out = (f'<path class="edge" d="{d}" fill="none" stroke="#6b6490" stroke-width="1.2"'
           f'{_dash(edge)} marker-end="url(#arrow)"/>')
    if edge.data is not None:
        out += (f'<text x="{column + 3:g}" y="{(out_y + in_y) / 2:g}" {_SMALL} '
                f'fill="#4b4670">{escape(str(edge.data))}</text>')
    return out


def _frames(nodes: Mapping[str, Node], items: Mapping[str, _Item]) -> list[str]:
    """A labelled frame around the nodes of each expanded subgraph, outer ones first
    (drawn under the edges and boxes)."""
    members: dict[str, list[_Item]] = {}
    for key in nodes:
        parts = key.split(":")
        for depth in range(1, len(parts)):
            members.setdefault(":".join(parts[:depth]), []).append(items[key])
    out = []
    for prefix in sorted(members, key=lambda p: p.count(":")):
        inside = members[prefix]
        pad = _FRAME + 6 * (max(k.count(":") for k in nodes if k.startswith(prefix + ":"))
                            - prefix.count(":") - 1)
        x0 = min(_left(i) for i in inside) - pad
        x1 = max(_left(i) + i.width * _COLUMN for i in inside) + pad
        y0 = min(_top(i) for i in inside) - pad - 12
        y1 = max(_top(i) + _BOX for i in inside) + pad
        out.append(
            f'<g class="subgraph" data-subgraph={quoteattr(prefix)}>'
            f'<rect x="{x0:g}" y="{y0:g}" width="{x1 - x0:g}" height="{y1 - y0:g}" rx="8" '
            f'fill="#faf9ff" stroke="#b9b3dd" stroke-dasharray="3 3"/>'
            f'<text x="{x0 + 6:g}" y="{y0 + 12:g}" {_SMALL} '
            f'fill="#6b6490">{escape(prefix.rsplit(":", 1)[-1])}</text></g>'
        )
    return out
