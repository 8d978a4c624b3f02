"""A LangGraph program (a subgraph compiled with interrupt_before/after), run on LangGraph 1.2.22 and on rillet."""
import operator
from typing import Annotated, TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import interrupt, Command
import re


def scrub(v):
    s = v if isinstance(v, str) else repr(v)
    s = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", s)
    s = re.sub(r"id='[0-9a-f]{32}'", "id=<iid>", s)
    s = re.sub(r"'20\d\d-[^']*'", "<ts>", s)
    return s


_print = print


def print(*args):  # noqa: A001 - every line scrubbed of ids and times
    _print(*(scrub(a) for a in args))
class S(TypedDict):
    log: Annotated[list, operator.add]
def mk(n): return lambda s: {"log": [n]}
sb = StateGraph(S); sb.add_node("s1", mk("s1")); sb.add_node("s2", mk("s2"))
sb.add_edge(START, "s1"); sb.add_edge("s1", "s2")
sub = sb.compile(interrupt_before=["s2"])
pb = StateGraph(S); pb.add_node("p", mk("p")); pb.add_node("sub", sub); pb.add_node("q", mk("q"))
pb.add_edge(START, "p"); pb.add_edge("p", "sub"); pb.add_edge("sub", "q")
app = pb.compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "1"}}
for c in app.stream({"log": []}, cfg, stream_mode="updates", subgraphs=True):
    print("A", c[1] if not c[0] else ("sub", c[1]))
st = app.get_state(cfg, subgraphs=True)
print("NEXT", st.next, [t.name for t in st.tasks], st.tasks[0].state.next if st.tasks and st.tasks[0].state else None)
for c in app.stream(None, cfg, stream_mode="updates", subgraphs=True):
    print("B", c[1] if not c[0] else ("sub", c[1]))
print("FINAL", app.get_state(cfg).values, app.get_state(cfg).next)
# interrupt_after in subgraph
sub2 = sb.compile(interrupt_after=["s1"])
pb2 = StateGraph(S); pb2.add_node("sub", sub2); pb2.add_edge(START, "sub")
app2 = pb2.compile(checkpointer=InMemorySaver())
print("C", app2.invoke({"log": []}, cfg))
print("C2", app2.invoke(None, cfg))
# invoked inside a node
def call(s):
    return sub.invoke(s)
pb3 = StateGraph(S); pb3.add_node("call", call); pb3.add_edge(START, "call")
app3 = pb3.compile(checkpointer=InMemorySaver())
print("D", app3.invoke({"log": []}, cfg))
print("D2", app3.invoke(None, cfg))
st = app.get_state(cfg, subgraphs=True)
print("HIST", [(h.next, h.metadata["step"]) for h in app.get_state_history(cfg)])
# a sync stream of values, paused and resumed twice on one thread
sub3 = sb.compile(interrupt_before=["s1"], interrupt_after=["s2"])
pb4 = StateGraph(S); pb4.add_node("sub", sub3); pb4.add_edge(START, "sub")
app4 = pb4.compile(checkpointer=InMemorySaver())
for inp in ({"log": []}, None, None):
    print("E", list(app4.stream(inp, cfg, stream_mode="values")))
    print("E-NEXT", app4.get_state(cfg).next)
