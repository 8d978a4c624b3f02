"""Checks run by ``compile()``: each failure names the node or edge at fault."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rillet._constants import END, START
from rillet.errors import GraphBuildError

if TYPE_CHECKING:
    from rillet.graph._builder import StateGraph


def validate(builder: StateGraph) -> None:
    nodes = builder.nodes
    known_sources = {*nodes, START}
    known_targets = {*nodes, END}

    def check_target(target: str, where: str) -> None:
        if target not in known_targets:
            hint = _hint(target, builder)
            raise GraphBuildError(f"{where} ends at unknown node {target!r}{hint}")

    for start, end in builder._edge_order:
        if start not in known_sources:
            raise GraphBuildError(
                f"Edge {start!r} -> {end!r} starts at unknown node {start!r}{_hint(start, builder)}"
            )
        check_target(end, f"Edge {start!r} -> {end!r}")
    for starts, end in builder.joins:
        for start in starts:
            if start not in nodes:
                raise GraphBuildError(
                    f"Edge {list(starts)!r} -> {end!r} starts at unknown node {start!r}"
                    f"{_hint(start, builder)}"
                )
        check_target(end, f"Edge {list(starts)!r} -> {end!r}")
    for source, branches in builder.branches.items():
        if source not in known_sources:
            raise GraphBuildError(
                f"Conditional edge {next(iter(branches))!r} starts at unknown node {source!r}"
                f"{_hint(source, builder)}"
            )
        for branch in branches.values():
            for target in branch.targets() or ():
                check_target(target, f"Conditional edge {branch.name!r} from {source!r}")
    for spec in nodes.values():
        for target in spec.destinations or ():
            check_target(target, f"Node {spec.name!r}'s declared destination")

    has_entry = any(s == START for s, _ in builder._edge_order) or START in builder.branches
    if not has_entry:
        raise GraphBuildError(
            "The graph has no entry point: add an edge from START to the first node, "
            "e.g. add_edge(START, 'my_node')"
        )
    _check_reachable(builder)


def _check_reachable(builder: StateGraph) -> None:
    nodes = builder.nodes
    successors: dict[str, set[str]] = {name: set() for name in (*nodes, START)}
    anywhere = False
    for start, end in builder._edge_order:
        successors[start].add(end)
    for source, branches in builder.branches.items():
        for branch in branches.values():
            targets = branch.targets()
            if targets is None:
                anywhere = True
            else:
                successors[source].update(targets)
    for spec in nodes.values():
        successors[spec.name].update(spec.destinations or ())
    if anywhere:
        # A conditional edge without a path map may go to any node (or Send to it).
        return
    reached = {START}
    frontier = [START]
    joins = list(builder.joins)
    while frontier:
        current = frontier.pop()
        for nxt in successors.get(current, ()):
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
        for starts, end in joins:
            if end not in reached and all(s in reached for s in starts):
                reached.add(end)
                frontier.append(end)
    unreachable = [name for name in nodes if name not in reached]
    if unreachable:
        name = unreachable[0]
        raise GraphBuildError(
            f"Node {name!r} cannot be reached from START: add an edge to it, remove it, or "
            f"if a node reaches it with Command(goto={name!r}), declare that with "
            f"add_node(..., destinations=({name!r},)) or a -> Command[Literal[{name!r}]] "
            f"return annotation."
        )


def _hint(name: str, builder: StateGraph) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(builder.nodes), n=1)
    if close:
        return f": did you mean {close[0]!r}?"
    known = ", ".join(repr(n) for n in builder.nodes) or "none yet"
    return f" (nodes: {known}); add it with add_node() first"
