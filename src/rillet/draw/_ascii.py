"""A text drawing of a graph: boxes in layers, joined by lines of ``*`` and ``.``.

Layout, deterministic and dependency-free (LangGraph uses grandalf for this):

1. Edges that close a loop are found by a depth-first walk from ``__start__`` (in node
   order) and set aside; the rest form a DAG.
2. Each node sits on the layer of the longest path reaching it (``__start__`` on top).
   An edge spanning several layers passes through a one-column waypoint on each layer
   in between, so it runs between boxes instead of through them.
3. Each layer is ordered by the mean position of its parents (ties by node order),
   nodes with loop edges last so that their loop lines leave to the right; then the
   layer is centred.
4. Downward edges are straight lines from the bottom of a box to the top of the next;
   loop edges run up a column of the right margin and end in ``<`` at their target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from rillet._constants import START
from rillet.draw._graph import Edge, Node

_GAP_ROWS = 3  # rows between two layers of boxes
_BOX_ROWS = 3
_H_SPACING = 3  # columns between two items of a layer


@dataclass(slots=True)
class _Item:
    key: str
    label: str | None  # None for a waypoint of a long edge
    layer: int
    x: int = 0

    @property
    def width(self) -> int:
        return 1 if self.label is None else len(self.label) + 4

    @property
    def center(self) -> int:
        return self.x + self.width // 2


def draw_ascii(nodes: Mapping[str, Node], edges: Sequence[Edge]) -> str:
    """The drawing, lines joined by newlines, without trailing spaces."""
    if not nodes:
        return ""
    order = list(nodes)
    unique: dict[tuple[str, str], Edge] = {}
    for edge in edges:
        unique.setdefault((edge.source, edge.target), edge)
    forward, loops = _split_loops(order, list(unique.values()))
    layer = _layers(order, forward)
    items = {key: _Item(key, nodes[key].name, layer[key]) for key in order}
    chains: list[tuple[list[str], bool]] = []
    for edge in forward:
        path = [edge.source]
        for depth in range(layer[edge.source] + 1, layer[edge.target]):
            waypoint = f"{edge.source}->{edge.target}@{depth}"
            items[waypoint] = _Item(waypoint, None, depth)
            path.append(waypoint)
        path.append(edge.target)
        chains.append((path, edge.conditional))
    looped = {e.source for e in loops} | {e.target for e in loops}
    parents: dict[str, list[str]] = {key: [] for key in items}
    children: dict[str, list[str]] = {key: [] for key in items}
    for path, _ in chains:
        for a, b in pairwise(path):
            parents[b].append(a)
            children[a].append(b)
    rows = _order_layers(order, items, parents, looped)
    width = _place(rows, parents, children)
    canvas = _Canvas(width + 2 + 2 * len(loops) + 2, len(rows) * (_BOX_ROWS + _GAP_ROWS))
    for path, conditional in chains:
        char = "." if conditional else "*"
        for a, b in pairwise(path):
            _draw_step(canvas, items[a], items[b], char)
    for i, edge in enumerate(loops):
        _draw_loop(canvas, items[edge.source], items[edge.target], width + 2 + 2 * i, edge)
    for item in items.values():
        if item.label is not None:
            _draw_box(canvas, item)
    return canvas.text()


def _split_loops(order: list[str], edges: list[Edge]) -> tuple[list[Edge], list[Edge]]:
    """(DAG edges, edges that close a cycle or loop on a node)."""
    out: dict[str, list[Edge]] = {key: [] for key in order}
    for e in edges:
        out[e.source].append(e)
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    back: set[tuple[str, str]] = set()
    roots = ([START] if START in out else []) + order
    for root in roots:
        if root in state:
            continue
        stack = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            key, pending = stack[-1]
            edge: Edge | None = next(pending, None)
            if edge is None:
                state[key] = 2
                stack.pop()
            elif state.get(edge.target) == 1:
                back.add((edge.source, edge.target))
            elif edge.target not in state:
                state[edge.target] = 1
                stack.append((edge.target, iter(out[edge.target])))
    forward = [e for e in edges if (e.source, e.target) not in back]
    loops = [e for e in edges if (e.source, e.target) in back]
    return forward, loops


def _layers(order: list[str], forward: list[Edge]) -> dict[str, int]:
    """Longest-path layering of the DAG, visited in topological order (Kahn's, ties
    broken by node order)."""
    preds: dict[str, list[str]] = {key: [] for key in order}
    succs: dict[str, list[str]] = {key: [] for key in order}
    for edge in forward:
        preds[edge.target].append(edge.source)
        succs[edge.source].append(edge.target)
    waiting = {key: len(preds[key]) for key in order}
    ready = [key for key in order if waiting[key] == 0]
    layer: dict[str, int] = {}
    rank = {key: i for i, key in enumerate(order)}
    while ready:
        key = ready.pop(0)
        layer[key] = max((layer[p] + 1 for p in preds[key]), default=0)
        for succ in succs[key]:
            waiting[succ] -= 1
            if waiting[succ] == 0:
                ready.append(succ)
                ready.sort(key=rank.__getitem__)
    return layer


def _order_layers(
    order: list[str],
    items: Mapping[str, _Item],
    parents: Mapping[str, list[str]],
    looped: set[str],
) -> list[list[_Item]]:
    rank = {key: i for i, key in enumerate(order)}
    count = max(item.layer for item in items.values()) + 1
    rows: list[list[_Item]] = [[] for _ in range(count)]
    for item in items.values():
        rows[item.layer].append(item)
    position: dict[str, float] = {}
    for row in rows:

        def sort_key(item: _Item) -> tuple[bool, float, int]:
            placed = [position[p] for p in parents[item.key] if p in position]
            mean = sum(placed) / len(placed) if placed else -1.0
            tie = rank.get(item.key, rank.get(item.key.split("->", 1)[0], 0))
            return (item.key in looped, mean, tie)

        row.sort(key=sort_key)
        for i, item in enumerate(row):
            position[item.key] = float(i)
    return rows


def _place(
    rows: list[list[_Item]], parents: Mapping[str, list[str]], children: Mapping[str, list[str]]
) -> int:
    """Set each item's column: rows packed and centred, then sweeps down, up and down
    that pull each item under (over) its parents (children) without overlaps. Returns
    the drawing's width."""
    widths = [sum(i.width for i in row) + _H_SPACING * (len(row) - 1) for row in rows]
    for row, row_width in zip(rows, widths, strict=True):
        x = (max(widths) - row_width) // 2
        for item in row:
            item.x = x
            x += item.width + _H_SPACING
    items = {item.key: item for row in rows for item in row}
    for sweep, links in enumerate((parents, children, parents)):
        for row in rows if sweep % 2 == 0 else reversed(rows):
            desired = []
            for item in row:
                centers = [items[k].center for k in links[item.key]]
                center = sum(centers) / len(centers) if centers else item.center
                desired.append(center - item.width // 2)
            _pack(row, desired)
    shift = min(item.x for item in items.values())
    for item in items.values():
        item.x -= shift
    return max(item.x + item.width for item in items.values())


def _pack(row: list[_Item], desired: list[float]) -> None:
    """Place the row's items in order, each as near its desired column as it can be
    with ``_H_SPACING`` between them: overlapping runs are merged into blocks, each
    block centred on the mean of what its members want (pool adjacent violators)."""
    blocks: list[tuple[list[int], float]] = []  # (item indexes, block's left column)

    def offsets(members: list[int]) -> list[int]:
        out, x = [], 0
        for i in members:
            out.append(x)
            x += row[i].width + _H_SPACING
        return out

    def span(members: list[int]) -> int:
        return sum(row[i].width for i in members) + _H_SPACING * (len(members) - 1)

    for i in range(len(row)):
        members, left = [i], desired[i]
        while blocks and blocks[-1][1] + span(blocks[-1][0]) + _H_SPACING > left:
            members = blocks.pop()[0] + members
            offs = offsets(members)
            left = sum(desired[m] - o for m, o in zip(members, offs, strict=True)) / len(members)
        blocks.append((members, left))
    for members, left in blocks:
        for m, off in zip(members, offsets(members), strict=True):
            row[m].x = round(left) + off


def _top(item: _Item) -> int:
    return item.layer * (_BOX_ROWS + _GAP_ROWS)


def _draw_step(canvas: _Canvas, a: _Item, b: _Item, char: str) -> None:
    """One layer down: from below ``a`` to above ``b`` (through a waypoint's rows)."""
    for item in (a, b):
        if item.label is None:
            canvas.line(item.center, _top(item), item.center, _top(item) + _BOX_ROWS - 1, char)
    canvas.line(a.center, _top(a) + _BOX_ROWS, b.center, _top(b) - 1, char)


def _draw_loop(canvas: _Canvas, a: _Item, b: _Item, column: int, edge: Edge) -> None:
    """An edge back up (or to itself): right, up the margin column, left into ``b``."""
    char = "." if edge.conditional else "*"
    out_row = _top(a) + (2 if a is b else 1)
    in_row = _top(b) + (0 if a is b else 1)
    canvas.line(a.x + a.width, out_row, column, out_row, char)
    canvas.line(column, in_row, column, out_row, char)
    canvas.line(b.x + b.width + 1, in_row, column, in_row, char)
    canvas.point(b.x + b.width, in_row, "<")


def _draw_box(canvas: _Canvas, item: _Item) -> None:
    assert item.label is not None
    border = "+" + "-" * (item.width - 2) + "+"
    top = _top(item)
    canvas.text_at(item.x, top, border)
    canvas.text_at(item.x, top + 1, f"| {item.label} |")
    canvas.text_at(item.x, top + 2, border)


class _Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.cells = [[" "] * width for _ in range(height)]

    def point(self, x: int, y: int, char: str) -> None:
        if 0 <= y < len(self.cells) and 0 <= x < self.width:
            self.cells[y][x] = char

    def text_at(self, x: int, y: int, text: str) -> None:
        for i, char in enumerate(text):
            self.point(x + i, y, char)

    def line(self, x0: int, y0: int, x1: int, y1: int, char: str) -> None:
        """A straight line, one character per step along its longer axis."""
        dx, dy = x1 - x0, y1 - y0
        steps = max(abs(dx), abs(dy))
        if steps == 0:
            self.point(x0, y0, char)
            return
        for i in range(steps + 1):
            self.point(x0 + round(i * dx / steps), y0 + round(i * dy / steps), char)

    def text(self) -> str:
        lines = ["".join(row).rstrip() for row in self.cells]
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines)
