"""A whole-state reducer schema (StateGraph(Annotated[list, add_messages])), run on
LangGraph 1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/graph-api (State: the schema may
be any type; here the root value is a list of messages merged by add_messages).
"""
import operator
from typing import Annotated
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import StateGraph, START, END
from langgraph.graph.message import add_messages
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


def chatbot(messages):
    return [AIMessage(f"seen {len(messages)}", id="ai-1")]


builder = StateGraph(Annotated[list, add_messages])
builder.add_node("chatbot", chatbot)
builder.add_edge(START, "chatbot")
builder.add_edge("chatbot", END)
graph = builder.compile()
print("ROOT-MESSAGES", graph.invoke([HumanMessage("hi", id="h-1")]))
print("ROOT-UPDATES", list(graph.stream([("user", "hi")], stream_mode="updates")))

builder = StateGraph(Annotated[list, operator.add])
builder.add_node("a", lambda xs: [len(xs)])
builder.add_node("b", lambda xs: [sum(xs)])
builder.add_edge(START, "a")
builder.add_edge("a", "b")
graph = builder.compile()
print("ROOT-LIST", graph.invoke([1, 2]))
print("ROOT-VALUES", list(graph.stream([1, 2], stream_mode="values")))
