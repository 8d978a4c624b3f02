"""A LangGraph program (a subgraph compiled with checkpointer=True: its own history on the thread, interrupted and resumed), run on LangGraph 1.2.22 and on rillet."""
import operator
from typing import Annotated, TypedDict
from langgraph.graph import StateGraph, START
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import interrupt, Command
class S(TypedDict):
    items: Annotated[list, operator.add]
def ask(s): return {"items": [interrupt(len(s["items"]))]}
inner = StateGraph(S).add_node(ask).add_edge(START, "ask").compile(checkpointer=True)
outer = StateGraph(S).add_node("inner", inner).add_edge(START, "inner").compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "t"}}
r = outer.invoke({"items": ["a"]}, cfg); print(1, r["items"], [i.value for i in r["__interrupt__"]])
print(2, outer.invoke(Command(resume="A"), cfg))
r = outer.invoke({"items": ["b"]}, cfg); print(3, r["items"], [i.value for i in r["__interrupt__"]])
print(4, outer.invoke(Command(resume="B"), cfg))
print(5, outer.get_state(cfg).values)
