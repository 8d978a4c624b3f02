"""Node caching, run on LangGraph 1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/use-graph-api (Add node caching)
and https://docs.langchain.com/oss/python/langgraph/graph-api (Node caching). The
expensive node counts its calls instead of sleeping.
"""
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START
from langgraph.cache.memory import InMemoryCache
from langgraph.types import CachePolicy
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

calls = []


class State(TypedDict):
    x: int
    result: int


def expensive_node(state: State) -> dict[str, int]:
    calls.append(state["x"])
    return {"result": state["x"] * 2}


builder = StateGraph(State)
builder.add_node("expensive_node", expensive_node, cache_policy=CachePolicy(ttl=3))
builder.set_entry_point("expensive_node")
builder.set_finish_point("expensive_node")
graph = builder.compile(cache=InMemoryCache())
print("FIRST", graph.invoke({"x": 5}, stream_mode="updates"))
print("SECOND", graph.invoke({"x": 5}, stream_mode="updates"))
print("OTHER-INPUT", graph.invoke({"x": 6}, stream_mode="updates"))
print("VALUES", graph.invoke({"x": 5}))
print("CALLS", calls)
graph.clear_cache()
print("AFTER-CLEAR", graph.invoke({"x": 5}, stream_mode="updates"), calls)


def key_on_nothing(state):
    return "same"


builder = StateGraph(State)
builder.add_node("expensive_node", expensive_node, cache_policy=CachePolicy(key_func=key_on_nothing))
builder.add_edge(START, "expensive_node")
graph = builder.compile(cache=InMemoryCache())
print("KEY-FUNC-1", graph.invoke({"x": 1}, stream_mode="updates"))
print("KEY-FUNC-2", graph.invoke({"x": 2}, stream_mode="updates"))
print("CALLS-2", calls)
