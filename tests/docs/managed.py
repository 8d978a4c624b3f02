"""Managed values (RemainingSteps, IsLastStep), run on LangGraph 1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/graph-api (Recursion limit:
proactive handling with RemainingSteps).
"""
from typing import Annotated, Literal
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.managed import RemainingSteps, IsLastStep
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
    messages: Annotated[list, lambda x, y: x + y]
    remaining_steps: RemainingSteps


def reasoning_node(state: State) -> dict:
    remaining = state["remaining_steps"]
    if remaining <= 2:
        return {"messages": [f"Approaching limit ({remaining}), wrapping up..."]}
    return {"messages": [f"thinking... ({remaining} left)"]}


def route_decision(state: State) -> Literal["reasoning_node", "__end__"]:
    if state["remaining_steps"] <= 2:
        return END
    return "reasoning_node"


builder = StateGraph(State)
builder.add_node("reasoning_node", reasoning_node)
builder.add_edge(START, "reasoning_node")
builder.add_conditional_edges("reasoning_node", route_decision)
graph = builder.compile()
print("REMAINING", graph.invoke({"messages": []}, {"recursion_limit": 6}))
print("REMAINING-UPDATES", list(graph.stream({"messages": []}, {"recursion_limit": 5}, stream_mode="updates")))


class LState(TypedDict):
    log: Annotated[list, lambda x, y: x + y]
    is_last_step: IsLastStep


def step(state: LState):
    return {"log": [state["is_last_step"]]}


builder = StateGraph(LState)
builder.add_node(step)
builder.add_edge(START, "step")
builder.add_conditional_edges("step", lambda s: END if s["is_last_step"] else "step")
graph = builder.compile()
print("IS-LAST-STEP", graph.invoke({"log": []}, {"recursion_limit": 4}))
