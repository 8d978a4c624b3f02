"""A LangGraph program (the checkpoints, tasks and debug stream modes, fresh and resumed, with subgraphs and the functional API), run on LangGraph 1.2.22 and on rillet."""
import operator
from typing import Annotated, TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import interrupt, Command
from langgraph.func import entrypoint, task
import re

def scrub(v):
    s = v if isinstance(v, str) else repr(v)
    s = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", s)
    s = re.sub(r"'[0-9a-f]{32}'", "<iid>", s)
    s = re.sub(r"'20\d\d-[^']*'", "<ts>", s)
    return s


# -- a pause in a node, resumed
class S(TypedDict):  # noqa: F811
    log: Annotated[list, operator.add]
def a(s): return {"log": ["a"]}
def ask(s): return {"log": [interrupt("q")]}
g = StateGraph(S); g.add_node("a", a); g.add_node("ask", ask); g.add_edge(START, "a"); g.add_edge("a", "ask")
app = g.compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "1"}}
for c in app.stream({"log": []}, cfg, stream_mode=["checkpoints", "tasks"]):
    print("A", scrub(c))
for c in app.stream(Command(resume="yes"), cfg, stream_mode=["checkpoints", "tasks"]):
    print("B", scrub(c))
# -- interrupt_before, continue, new input, debug, fork
def a(s): return {"log": ["a"]}
def b(s): return {"log": ["b"]}
g = StateGraph(S); g.add_node("a", a); g.add_node("b", b); g.add_edge(START, "a"); g.add_edge("a", "b")
app = g.compile(checkpointer=InMemorySaver(), interrupt_before=["b"])
cfg = {"configurable": {"thread_id": "2"}}
for c in app.stream({"log": []}, cfg, stream_mode=["checkpoints"]):
    print("A", scrub(c))
for c in app.stream(None, cfg, stream_mode=["checkpoints"]):
    print("B", scrub(c))
for c in app.stream({"log": ["new"]}, cfg, stream_mode=["checkpoints"]):
    print("C", scrub(c))
for c in app.stream(None, cfg, stream_mode=["debug"]):
    print("D", scrub(c))
# fork from past
past = list(app.get_state_history(cfg))[-2]
for c in app.stream(None, past.config, stream_mode=["checkpoints"]):
    print("E", scrub(c))
# -- a subgraph pausing, and an entrypoint
def ask(s): return {"log": [interrupt("q")]}
sb = StateGraph(S); sb.add_node("ask", ask); sb.add_edge(START, "ask")
pb = StateGraph(S); pb.add_node("sub", sb.compile()); pb.add_edge(START, "sub")
app = pb.compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "3"}}
for c in app.stream({"log": []}, cfg, stream_mode=["checkpoints", "tasks"], subgraphs=True):
    print("A", scrub(c))
for c in app.stream(Command(resume="yes"), cfg, stream_mode=["checkpoints", "tasks"], subgraphs=True):
    print("B", scrub(c))
@task
def t1(x): return interrupt(x)
@entrypoint(checkpointer=InMemorySaver())
def main(x):
    return t1(x).result()
for c in main.stream(1, cfg, stream_mode=["checkpoints", "tasks"]):
    print("C", scrub(c))
for c in main.stream(Command(resume="r"), cfg, stream_mode=["checkpoints", "tasks"]):
    print("D", scrub(c))
