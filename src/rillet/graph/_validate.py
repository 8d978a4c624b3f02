"""Checks run by ``compile()``: each failure names the node or edge at fault.

Like LangGraph's, they check that every edge starts and ends at a known node and that
the graph has an entry point; they do not check that every node can be reached, since
``Command(goto=...)`` and ``Command.PARENT`` reach nodes that no edge names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rillet._constants import END, START
from rillet.errors import GraphBuildError

if TYPE_CHECKING:
    from rillet.graph._builder import StateGraph


def validate(builder: StateGraph) -> None:
    """:raises GraphBuildError: for the first mistake found."""
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
        _check_join(builder, starts, end)
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
            if target not in known_targets:
                raise GraphBuildError(
                    f"Node {spec.name!r} declares the destination {target!r}, which is not "
                    f"a node{_hint(target, builder)}"
                )

    has_entry = any(s == START for s, _ in builder._edge_order) or START in builder.branches
    if not has_entry:
        raise GraphBuildError(
            "The graph has no entry point: add an edge from START to the first node, "
            "e.g. add_edge(START, 'my_node')"
        )


def _check_join(builder: StateGraph, starts: tuple[str, ...], end: str) -> None:
    edge = f"Edge {list(starts)!r} -> {end!r}"
    seen: set[str] = set()
    for start in starts:
        if start not in builder.nodes:
            raise GraphBuildError(
                f"{edge} starts at unknown node {start!r}{_hint(start, builder)}"
            )
        if start in seen:
            raise GraphBuildError(
                f"{edge} names {start!r} twice: a join waits for each of its nodes once, "
                f"so list each node once"
            )
        seen.add(start)


def _hint(name: str, builder: StateGraph) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(builder.nodes), n=1)
    if close:
        return f": did you mean {close[0]!r}?"
    known = ", ".join(repr(n) for n in builder.nodes) or "none yet"
    return f" (nodes: {known}); add it with add_node() first"
