"""Examples of the "Graph API overview" concept page (low-level concepts) where rillet
differs from LangGraph 1.2.22 today: the compiled graph's ``nodes`` (LangGraph lists
``__start__`` too) and the default recursion limit (LangGraph 1.2.22: 10007, from
LANGGRAPH_DEFAULT_RECURSION_LIMIT; rillet: 25).

Page: https://docs.langchain.com/oss/python/langgraph/graph-api
(formerly https://langchain-ai.github.io/langgraph/concepts/low_level/): graphs and
compile, state with multiple schemas (input / output / private), default and
operator.add reducers, messages in state and their serialization, nodes with config,
START and END, normal and conditional edges with a path map, entry points, Send,
Command (update + goto, in place of conditional edges), recursion limit and
langgraph_step, visualization.
"""
import operator
from typing import Annotated, Literal
from typing_extensions import TypedDict
from langchain_core.messages import AnyMessage, HumanMessage, AIMessage, RemoveMessage
from langgraph.graph import StateGraph, START, END, MessagesState
from langgraph.graph.message import add_messages, REMOVE_ALL_MESSAGES
from langgraph.types import Send, Command
from langgraph.errors import GraphRecursionError, InvalidUpdateError
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
    input: str
    results: str


def plain_node(state: State):
    return {"results": f"Hello, {state['input']}!"}


builder = StateGraph(State)
builder.add_node("plain_node", plain_node)
builder.add_edge(START, "plain_node")
g = builder.compile()
print("NODES-LIST", list(g.nodes))


class State(TypedDict):
    count: int


def inc(state: State, config):
    return {"count": state["count"] + 1, }


def show_limit(state: State, config):
    print("LIMIT-IN-CONFIG", config.get("recursion_limit"))
    return {}


builder = StateGraph(State)
builder.add_node(inc)
builder.add_node(show_limit)
builder.add_edge(START, "show_limit")
builder.add_edge("show_limit", "inc")
builder.add_conditional_edges("inc", lambda s: "inc" if s["count"] < 100 else END)
g = builder.compile()
try:
    print("RECURSION-DEFAULT", g.invoke({"count": 0}))
except GraphRecursionError as exc:
    print("RECURSION-DEFAULT", type(exc).__name__)
