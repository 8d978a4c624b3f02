"""Command destinations drawn as edges, run on LangGraph 1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/use-graph-api (Combine control
flow and state updates with Command: a node returning Command needs its destinations
declared, by its return annotation or add_node(destinations=...), to be drawn).
"""
from typing import Literal
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START
from langgraph.types import Command
import re


def scrub(v):
    s = v if isinstance(v, str) else repr(v)
    s = re.sub(r"(lc_)?run-+[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(-\d+)?", "<run-id>", s)
    s = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", s)
    s = re.sub(r"id='[0-9a-f]{32}'", "id=<iid>", s)
    s = re.sub(r"'20\d\d-[^']*'", "<ts>", s)
    return s


_print = print


def print(*args, **kwargs):  # noqa: A001 - every line scrubbed of ids and times
    _print(*(scrub(a) for a in args), **kwargs)


class State(TypedDict):
    foo: str


def node_a(state: State):
    return Command(update={"foo": "a"}, goto="node_b" if state["foo"] != "c" else "node_c")


def node_b(state: State):
    return {"foo": state["foo"] + "b"}


def node_c(state: State):
    return {"foo": state["foo"] + "c"}


builder = StateGraph(State)
builder.add_edge(START, "node_a")
builder.add_node(node_a, destinations=("node_b", "node_c"))
builder.add_node(node_b)
builder.add_node(node_c)
graph = builder.compile()
print("DEST-TUPLE", graph.invoke({"foo": ""}))
print("DEST-TUPLE-DRAW", graph.get_graph().draw_mermaid())

builder = StateGraph(State)
builder.add_edge(START, "node_a")
builder.add_node(node_a, destinations={"node_b": "to b", "node_c": "to c"})
builder.add_node(node_b)
builder.add_node(node_c)
graph = builder.compile()
print("DEST-LABELS-DRAW", graph.get_graph().draw_mermaid())


def typed_a(state: State) -> Command[Literal["node_b", "node_c"]]:
    return Command(update={"foo": "t"}, goto="node_c")


builder = StateGraph(State)
builder.add_edge(START, "typed_a")
builder.add_node(typed_a)
builder.add_node(node_b)
builder.add_node(node_c)
graph = builder.compile()
print("TYPED-DRAW", graph.get_graph().draw_mermaid())
