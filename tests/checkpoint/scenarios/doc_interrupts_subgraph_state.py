"""GAP (not in the passing list): get_state(subgraphs=True) on a parent whose node
calls a compiled subgraph from its function body. From the interrupts page, run on LangGraph
1.2.22 and on rillet.

https://docs.langchain.com/oss/python/langgraph/interrupts
(interrupt and Command(resume), approve or reject, review and edit state, interrupts in
tools, validating human input, multiple interrupts, streaming with interrupts, static
interrupts, the rules of interrupts). The model calling tools is replaced by a node that
writes a hand-built AIMessage with tool calls.
"""
from typing import Literal, Optional

from typing_extensions import TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, END, StateGraph, MessagesState
from langgraph.prebuilt import ToolNode
from langgraph.types import Command, interrupt
from langchain_core.messages import AIMessage, HumanMessage
import re


def scrub(v):
    s = v if isinstance(v, str) else repr(v)
    s = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", s)
    s = re.sub(r"[0-9a-f]{32}", "<iid>", s)
    s = re.sub(r"'20\d\d-[^']*'", "<ts>", s)
    s = re.sub(r"datetime\.datetime\([^)]*\)", "<dt>", s)
    return s


_print = print


def print(*args):  # noqa: A001 - every line scrubbed of ids and times
    _print(*(scrub(a) for a in args))


def show(tag, v):
    print(tag, v)


def ints(result):
    return [(i.value, type(i).__name__) for i in result.get("__interrupt__", [])]


# -- Interrupt in a subgraph: the parent node re-runs from its start ---------------------
parent_calls = []


class Sub(TypedDict):
    text: str


def sub_node(state: Sub):
    return {"text": state["text"] + "|" + interrupt("sub asks")}


subgraph = StateGraph(Sub).add_node("sub_node", sub_node).add_edge(START, "sub_node").compile()


def node_in_parent(state: Sub):
    parent_calls.append("parent node start")
    out = subgraph.invoke(state)
    return {"text": out["text"]}


graph = (
    StateGraph(Sub).add_node("parent", node_in_parent).add_edge(START, "parent")
    .compile(checkpointer=InMemorySaver())
)
config = {"configurable": {"thread_id": "sub"}}
show("SUB-1", ints(graph.invoke({"text": "t"}, config)))
st = graph.get_state(config, subgraphs=True)
show("SUB-state", (st.next, [(t.name, t.state is not None) for t in st.tasks]))
show("SUB-state-task", [(t.state.next, t.state.values, [i.value for i in t.state.interrupts]) if hasattr(t.state, "next") else t.state for t in st.tasks])
show("SUB-2", graph.invoke(Command(resume="answer"), config))
show("SUB-calls", parent_calls)
