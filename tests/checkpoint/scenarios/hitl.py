"""A LangGraph program (persistence), run on LangGraph 1.2.22 and on rillet."""
import operator
from typing import Annotated, TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import interrupt, Command, Send
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



def show(tag, v):
    print(tag, v)

class S(TypedDict):
    x: int
    log: Annotated[list, operator.add]

saver = InMemorySaver()
# 1. interrupt_before + update_state + resume
def a(s): return {"x": s["x"] + 1, "log": ["a"]}
def b(s): return {"x": s["x"] * 10, "log": ["b"]}
def c(s): return {"log": ["c"]}
g = StateGraph(S); g.add_node("a", a); g.add_node("b", b); g.add_node("c", c)
g.add_edge(START, "a"); g.add_edge("a", "b"); g.add_edge("b", "c")
app = g.compile(checkpointer=saver, interrupt_before=["b"])
cfg = {"configurable": {"thread_id": "ib"}}
show("IB1", app.invoke({"x": 1, "log": []}, cfg))
show("IB-UPD", list(app.stream({"x": 1, "log": []}, {"configurable": {"thread_id": "ib2"}}, stream_mode="updates")))
st = app.get_state(cfg); show("IB-next", (st.next, st.metadata, st.values))
newcfg = app.update_state(cfg, {"x": 100})
show("IB-newcfg-keys", sorted(newcfg["configurable"]))
st = app.get_state(cfg); show("IB-after-update", (st.next, st.metadata, st.values, [(t.name) for t in st.tasks]))
show("IB-resume", app.invoke(None, cfg))
show("IB-hist", [(h.metadata["source"], h.metadata["step"], h.next) for h in app.get_state_history(cfg)])
# as_node variants
cfg3 = {"configurable": {"thread_id": "asn"}}
app2 = g.compile(checkpointer=saver)
app2.invoke({"x": 1, "log": []}, cfg3)
c2 = app2.update_state(cfg3, {"log": ["manual"]}, as_node="a")
st = app2.get_state(cfg3); show("ASNODE-a", (st.next, st.values, st.metadata))
try: app2.update_state(cfg3, {"log": ["x"]}, as_node="zzz")
except Exception as e: show("ASNODE-bad", (type(e).__name__, str(e)))
show("ASNODE-run", app2.invoke(None, cfg3))
# interrupt_after
app3 = g.compile(checkpointer=saver, interrupt_after=["a"])
c4 = {"configurable": {"thread_id": "ia"}}
show("IA1", app3.invoke({"x": 1, "log": []}, c4))
show("IA-next", app3.get_state(c4).next)
show("IA2", app3.invoke(None, c4))
# 2. parallel with one interrupt: pending writes
class P(TypedDict):
    log: Annotated[list, operator.add]
calls = []
def p1(s): calls.append("p1"); return {"log": ["p1"]}
def p2(s):
    calls.append("p2"); v = interrupt("ok?"); return {"log": ["p2:" + v]}
def j(s): return {"log": ["j"]}
gp = StateGraph(P); gp.add_node("p1", p1); gp.add_node("p2", p2); gp.add_node("j", j)
gp.add_edge(START, "p1"); gp.add_edge(START, "p2"); gp.add_edge(["p1", "p2"], "j")
ap = gp.compile(checkpointer=saver)
cp = {"configurable": {"thread_id": "par"}}
show("PAR1", ap.invoke({"log": []}, cp))
st = ap.get_state(cp); show("PAR-state", (st.values, st.next, [(t.name, t.result, len(t.interrupts)) for t in st.tasks]))
show("PAR2", ap.invoke(Command(resume="yes"), cp)); show("PAR-calls", calls)
# 3. two interrupts in one node
def two(s):
    a1 = interrupt("first"); a2 = interrupt("second"); return {"log": [a1, a2]}
g2 = StateGraph(P); g2.add_node("two", two); g2.add_edge(START, "two")
a2 = g2.compile(checkpointer=saver); c5 = {"configurable": {"thread_id": "two"}}
r = a2.invoke({"log": []}, c5); show("TWO1", r)
r = a2.invoke(Command(resume="A"), c5); show("TWO2", r)
r = a2.invoke(Command(resume="B"), c5); show("TWO3", r)
# 4. Command(resume, update, goto)
class Q(TypedDict):
    q: str
    ans: str
def ask(s): return {"ans": interrupt("?") + "|" + s["q"]}
def other(s): return {"q": "other"}
g3 = StateGraph(Q); g3.add_node("ask", ask); g3.add_node("other", other); g3.add_edge(START, "ask")
a3 = g3.compile(checkpointer=saver); c6 = {"configurable": {"thread_id": "cmd"}}
a3.invoke({"q": "q0", "ans": ""}, c6)
show("CMD", a3.invoke(Command(resume="R", update={"q": "q1"}), c6))
c7 = {"configurable": {"thread_id": "cmd2"}}
a3.invoke({"q": "q0", "ans": ""}, c7)
show("CMD-goto", a3.invoke(Command(resume="R", goto="other"), c7))
# 5. time travel
c8 = {"configurable": {"thread_id": "tt"}}
app2.invoke({"x": 1, "log": []}, c8)
hist = list(app2.get_state_history(c8))
target = [h for h in hist if h.next == ("b",)][0]
show("TT-target", (target.values, target.metadata))
show("TT-run", app2.invoke(None, target.config))
show("TT-hist", [(h.metadata["source"], h.metadata["step"], h.next, h.values["x"] if "x" in h.values else None) for h in app2.get_state_history(c8)])
# update on a past checkpoint = fork
fc = app2.update_state(target.config, {"x": 7})
show("FORK", app2.invoke(None, fc))
# 6. checkpoints & debug stream
c9 = {"configurable": {"thread_id": "cs"}}
for item in app2.stream({"x": 1, "log": []}, c9, stream_mode="checkpoints"):
    print("CKPT", {k: v for k, v in item.items() if k not in ("config", "parent_config")}, sorted(item))
for item in app2.stream({"x": 1, "log": []}, {"configurable": {"thread_id": "dbg"}}, stream_mode="debug"):
    print("DEBUG", item["type"], item["step"], sorted(item["payload"]))
# 7 durability exit
c10 = {"configurable": {"thread_id": "exit"}}
app2.invoke({"x": 1, "log": []}, c10, durability="exit")
show("EXIT-hist", [(h.metadata["source"], h.metadata["step"], h.next) for h in app2.get_state_history(c10)])
# metadata from config
c11 = {"configurable": {"thread_id": "md", "user": "u1"}, "metadata": {"k": 1, "obj": [1]}}
app2.invoke({"x": 1, "log": []}, c11)
show("MD", app2.get_state(c11).metadata)
