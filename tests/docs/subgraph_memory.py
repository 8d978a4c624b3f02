"""Examples of "Use subgraphs" about a subgraph compiled with checkpointer=True (its
own memory on the parent's thread), run on LangGraph 1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/use-subgraphs
(invoke a graph from a node with a different schema, add a graph as a node with shared
keys, multi-level subgraphs, persistence with the parent's checkpointer and per-subgraph
checkpointer=True, viewing subgraph state with get_state(subgraphs=True) during an
interrupt, streaming subgraph outputs, Command(graph=Command.PARENT)).
"""
import operator
from typing import Annotated, Literal
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END, MessagesState
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import interrupt, Command
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


# --- Subgraph with its own checkpointer=True (memory across calls)
class CState(TypedDict):
    items: Annotated[list, operator.add]


def add_item(state: CState):
    return {"items": [len(state["items"])]}


inner = StateGraph(CState).add_node(add_item).add_edge(START, "add_item").compile(checkpointer=True)


def call_inner(state: CState):
    return {"items": inner.invoke({"items": ["call"]})["items"]}


outer = StateGraph(CState).add_node(call_inner).add_edge(START, "call_inner").compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "own"}}
print("OWN-CKPT-1", outer.invoke({"items": []}, cfg))
print("OWN-CKPT-2", outer.invoke({"items": []}, cfg))


# --- The same subgraph added as a node: its state carries over between parent runs
inner_node = StateGraph(CState).add_node(add_item).add_edge(START, "add_item").compile(checkpointer=True)
outer2 = StateGraph(CState).add_node("inner", inner_node).add_edge(START, "inner").compile(checkpointer=InMemorySaver())
cfg2 = {"configurable": {"thread_id": "own-node"}}
print("OWN-NODE-1", outer2.invoke({"items": ["x"]}, cfg2))
print("OWN-NODE-2", outer2.invoke({"items": ["y"]}, cfg2))
sub_state = outer2.get_state(cfg2, subgraphs=True)
print("OWN-NODE-STATE", sub_state.values)
