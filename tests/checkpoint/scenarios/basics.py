"""A LangGraph program (persistence), run on LangGraph 1.2.22 and on rillet."""
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
    x: int
    log: Annotated[list, operator.add]

def a(s): return {"x": s["x"] + 1, "log": ["a"]}
def b(s): return {"x": s["x"] * 10, "log": ["b"]}
g = StateGraph(S); g.add_node("a", a); g.add_node("b", b)
g.add_edge(START, "a"); g.add_edge("a", "b"); g.add_edge("b", END)
saver = InMemorySaver()
app = g.compile(checkpointer=saver)
cfg = {"configurable": {"thread_id": "t1"}}
print("OUT", app.invoke({"x": 1, "log": []}, cfg))
st = app.get_state(cfg)
print("STATE", st)
for h in app.get_state_history(cfg):
    print("HIST", h.metadata, h.next, h.values, [ (t.name, t.path, t.result) for t in h.tasks])
print("EMPTY", app.get_state({"configurable": {"thread_id": "nope"}}))
print("SECOND", app.invoke({"x": 5}, cfg))
print("NONE-input-done", app.invoke(None, cfg))
try:
    print(app.invoke(None, {"configurable": {"thread_id": "fresh"}}))
except Exception as e: print("NONE-fresh", type(e).__name__, e)
# updates stream
print("UPD", list(app.stream({"x": 1}, {"configurable": {"thread_id": "t2"}}, stream_mode="updates")))
# interrupt
class Q(TypedDict):
    q: str
    ans: str
def ask(s):
    print("  ask runs")
    v = interrupt({"question": s["q"]})
    return {"ans": v}
def done(s): return {"ans": s["ans"].upper()}
g2 = StateGraph(Q); g2.add_node("ask", ask); g2.add_node("done", done)
g2.add_edge(START, "ask"); g2.add_edge("ask", "done")
app2 = g2.compile(checkpointer=saver)
c2 = {"configurable": {"thread_id": "q1"}}
r = app2.invoke({"q": "why", "ans": ""}, c2)
print("INT-OUT", r)
st = app2.get_state(c2)
print("INT-STATE", st)
print("INT-UPD", list(app2.stream({"q": "why", "ans": ""}, {"configurable": {"thread_id": "q2"}}, stream_mode="updates")))
print("INT-VAL", list(app2.stream({"q": "why", "ans": ""}, {"configurable": {"thread_id": "q3"}}, stream_mode="values")))
print("RESUME", app2.invoke(Command(resume="because"), c2))
try:
    app2.invoke(Command(resume="again"), c2); print("RESUME-AGAIN ok", app2.get_state(c2).values)
except Exception as e: print("RESUME-AGAIN", type(e).__name__, e)
app3 = g2.compile()
try: print("NOCKPT", app3.invoke({"q": "w", "ans": ""}))
except Exception as e: print("NOCKPT", type(e).__name__, e)
try: print("NOCKPT-RESUME", app3.invoke(Command(resume="x")))
except Exception as e: print("NOCKPT-RESUME", type(e).__name__, e)
