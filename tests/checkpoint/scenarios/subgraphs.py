"""A LangGraph program (persistence), run on LangGraph 1.2.22 and on rillet."""
import asyncio
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
    q: str
runs = []
def s1(s): runs.append("s1"); return {"log": ["s1"]}
def s2(s):
    runs.append("s2"); a = interrupt("sub?"); return {"log": ["s2:" + a]}
sg = StateGraph(S); sg.add_node("s1", s1); sg.add_node("s2", s2)
sg.add_edge(START, "s1"); sg.add_edge("s1", "s2")
sub = sg.compile()
def before(s): runs.append("before"); return {"log": ["before"]}
def after(s): runs.append("after"); return {"log": ["after"]}
g = StateGraph(S); g.add_node("before", before); g.add_node("sub", sub); g.add_node("after", after)
g.add_edge(START, "before"); g.add_edge("before", "sub"); g.add_edge("sub", "after")
saver = InMemorySaver()
app = g.compile(checkpointer=saver)
cfg = {"configurable": {"thread_id": "sg"}}
print("SG1", scrub(app.invoke({"log": [], "q": ""}, cfg)))
st = app.get_state(cfg)
print("SG-state", scrub(st))
st = app.get_state(cfg, subgraphs=True)
print("SG-state-sub", scrub(st.tasks[0].state))
print("SG-stream-resume", scrub(list(app.stream(Command(resume="yes"), cfg, stream_mode="updates", subgraphs=True))))
print("SG-runs", runs)
print("SG-final", scrub(app.get_state(cfg).values))
# stream interrupts with subgraphs=True
runs.clear()
cfg2 = {"configurable": {"thread_id": "sg2"}}
print("SG2-stream", scrub(list(app.stream({"log": [], "q": ""}, cfg2, stream_mode="updates", subgraphs=True))))
# async
async def main():
    cfg3 = {"configurable": {"thread_id": "as"}}
    r = await app.ainvoke({"log": [], "q": ""}, cfg3)
    print("ASYNC1", scrub(r))
    items = [x async for x in app.astream(Command(resume="a"), cfg3, stream_mode="values")]
    print("ASYNC2", scrub(items))
asyncio.run(main())
# sqlite
from langgraph.checkpoint.sqlite import SqliteSaver
import tempfile, os
d = tempfile.mkdtemp()
with SqliteSaver.from_conn_string(os.path.join(d, "x.db")) as sq:
    a2 = g.compile(checkpointer=sq)
    c = {"configurable": {"thread_id": "sq"}}
    print("SQ1", scrub(a2.invoke({"log": [], "q": ""}, c)))
with SqliteSaver.from_conn_string(os.path.join(d, "x.db")) as sq:
    a2 = g.compile(checkpointer=sq)
    print("SQ2", scrub(a2.invoke(Command(resume="z"), c)))
    print("SQ3", len(list(a2.get_state_history(c))))
