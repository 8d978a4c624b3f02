"""Helpers shared by the Mermaid tests: LangGraph's fixed header and class lines, and
small graphs of no-op nodes."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from rillet.graph import StateGraph

HEADER = "---\nconfig:\n  flowchart:\n    curve: linear\n---\ngraph TD;\n"
CLASSES = (
    "\tclassDef default fill:#f2f0ff,line-height:1.2\n"
    "\tclassDef first fill-opacity:0\n"
    "\tclassDef last fill:#bfb6fc\n"
)


def mermaid(*lines: str) -> str:
    """LangGraph's text: the header, one tab-indented line per entry, the classDefs."""
    return HEADER + "".join(f"\t{line}\n" for line in lines) + CLASSES


class State(TypedDict):
    topic: str
    joke: str
    items: Annotated[list[str], operator.add]


def noop(state: Any) -> dict[str, Any]:
    return {}


def graph_of(*names: str) -> StateGraph:
    builder = StateGraph(State)
    for name in names:
        builder.add_node(name, noop)
    return builder


def stop(state: Any) -> str:
    return "stop"
