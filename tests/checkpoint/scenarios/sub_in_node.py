"""A LangGraph program (a node that invokes a compiled graph in its body: checkpoints items and snapshots name its namespace), run on LangGraph 1.2.22 and on rillet."""
from typing import TypedDict
from langgraph.graph import StateGraph, START
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import interrupt, Command
import re
def scrub(v):
    s = repr(v)
    s = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", s)
    s = re.sub(r"'[0-9a-f]{32}'", "<iid>", s)
    return s
class Sub(TypedDict):
    text: str
def sub_node(state): return {"text": state["text"] + "|" + interrupt("sub asks")}
subgraph = StateGraph(Sub).add_node("sub_node", sub_node).add_edge(START, "sub_node").compile()
def parent(state):
    return {"text": subgraph.invoke(state)["text"]}
graph = StateGraph(Sub).add_node("parent", parent).add_edge(START, "parent").compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "1"}}
for c in graph.stream({"text": "t"}, cfg, stream_mode="checkpoints"):
    print("A", scrub(c["tasks"]))
for c in graph.stream(Command(resume="x"), cfg, stream_mode="checkpoints"):
    print("B", scrub(c["tasks"]))
print(scrub([t.state for t in graph.get_state(cfg).tasks]))
