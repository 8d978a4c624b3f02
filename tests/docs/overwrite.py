"""Bypass a reducer with Overwrite, run on LangGraph 1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/use-graph-api (Bypass reducers
with Overwrite).
"""
import operator
from typing import Annotated
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.types import Overwrite
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
    messages: Annotated[list, operator.add]


def add_message(state: State):
    return {"messages": ["first message"]}


def replace_messages(state: State):
    return {"messages": Overwrite(["replacement message"])}


builder = StateGraph(State)
builder.add_node("add_message", add_message)
builder.add_node("replace_messages", replace_messages)
builder.add_edge(START, "add_message")
builder.add_edge("add_message", "replace_messages")
builder.add_edge("replace_messages", END)
graph = builder.compile()
result = graph.invoke({"messages": ["initial"]})
print("OVERWRITE", result["messages"])
print("OVERWRITE-UPDATES", list(graph.stream({"messages": ["initial"]}, stream_mode="updates")))


def replace_with_json(state: State):
    return {"messages": {"__overwrite__": ["replacement from json"]}}


builder = StateGraph(State)
builder.add_node("add_message", add_message)
builder.add_node("replace_with_json", replace_with_json)
builder.add_edge(START, "add_message")
builder.add_edge("add_message", "replace_with_json")
graph = builder.compile()
print("OVERWRITE-JSON", graph.invoke({"messages": ["initial"]})["messages"])
