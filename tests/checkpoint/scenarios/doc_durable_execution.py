"""The LangGraph documentation's durable-execution page, run on LangGraph 1.2.22 and on
rillet.

https://docs.langchain.com/oss/python/langgraph/durable-execution
(tasks wrapping side effects in a graph node, durability modes sync/async/exit,
resuming after an interrupt and after an error, where a resumed run starts: the node,
the parent node of a subgraph, the entrypoint). ``requests.get`` is replaced by a
deterministic function that records its calls.
"""
import operator
import uuid
from typing import Annotated, NotRequired

from typing_extensions import TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.func import entrypoint, task
from langgraph.graph import START, END, StateGraph
from langgraph.types import Command, interrupt
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


fetched = []


def fake_get(url):
    fetched.append(url)
    return f"<html>{url}</html>"


# -- Using tasks in nodes: side effects in a task are not repeated on resume ----------------
class State(TypedDict):
    urls: list[str]
    result: NotRequired[list[str]]
    approved: NotRequired[bool]


@task
def _make_request(url: str):
    """Make a request."""
    return fake_get(url)[:100]


def call_api(state: State):
    """Example node that makes API requests, each in a task."""
    requests = [_make_request(url) for url in state["urls"]]
    results = [request.result() for request in requests]
    approved = interrupt({"fetched": results})
    return {"result": results, "approved": approved}


builder = StateGraph(State)
builder.add_node("call_api", call_api)
builder.add_edge(START, "call_api")
builder.add_edge("call_api", END)
checkpointer = InMemorySaver()
graph = builder.compile(checkpointer=checkpointer)

thread_id = uuid.uuid4()
config = {"configurable": {"thread_id": thread_id}}
show("TASKNODE-1", graph.invoke({"urls": ["https://www.example.com", "https://example.org"]}, config))
show("TASKNODE-fetched-1", sorted(fetched))
st = graph.get_state(config)
show("TASKNODE-state", (st.next, [(t.name, len(t.interrupts)) for t in st.tasks]))
show("TASKNODE-2", graph.invoke(Command(resume=True), config))
show("TASKNODE-fetched-2", sorted(fetched))


# -- Durability modes ------------------------------------------------------------------------
class Seq(TypedDict):
    log: Annotated[list[str], operator.add]


def one(state: Seq):
    return {"log": ["one"]}


def two(state: Seq):
    return {"log": ["two"]}


def three(state: Seq):
    return {"log": ["three"]}


seq = (
    StateGraph(Seq).add_node("one", one).add_node("two", two).add_node("three", three)
    .add_edge(START, "one").add_edge("one", "two").add_edge("two", "three")
    .compile(checkpointer=InMemorySaver())
)
for mode in ("sync", "async", "exit"):
    cfg = {"configurable": {"thread_id": f"dur-{mode}"}}
    chunks = list(seq.stream({"log": []}, cfg, stream_mode="updates", durability=mode))
    show("DURABILITY", (mode, chunks))
    show("DURABILITY-hist", (mode, [(h.metadata["source"], h.metadata["step"], h.next)
                                    for h in seq.get_state_history(cfg)]))
    show("DURABILITY-state", (mode, seq.get_state(cfg).values))


# -- Resuming after an error: the failed node re-runs, finished ones do not -------------------------
runs = []
fail = {"three": True}


def r_one(state: Seq):
    runs.append("one")
    return {"log": ["one"]}


def r_two(state: Seq):
    runs.append("two")
    return {"log": ["two"]}


def r_three(state: Seq):
    runs.append("three")
    if fail["three"]:
        raise RuntimeError("LLM timed out")
    return {"log": ["three"]}


def r_side(state: Seq):
    runs.append("side")
    return {"log": ["side"]}


rec = (
    StateGraph(Seq).add_node("one", r_one).add_node("two", r_two).add_node("three", r_three)
    .add_node("side", r_side)
    .add_edge(START, "one").add_edge("one", "two").add_edge("one", "side")
    .add_edge("two", "three").add_edge("side", "three")
    .compile(checkpointer=InMemorySaver())
)
for mode in ("sync", "exit"):
    runs.clear()
    fail["three"] = True
    cfg = {"configurable": {"thread_id": f"err-{mode}"}}
    try:
        rec.invoke({"log": []}, cfg, durability=mode)
    except RuntimeError as e:
        show("ERR", (mode, repr(e)))
    st = rec.get_state(cfg)
    show("ERR-state", (mode, st.values, st.next, [(t.name, repr(t.error)) for t in st.tasks],
                       st.metadata["source"], st.metadata["step"]))
    fail["three"] = False
    show("ERR-resume", (mode, rec.invoke(None, cfg)))
    show("ERR-runs", (mode, sorted(runs)))
    show("ERR-hist", (mode, [(h.metadata["source"], h.metadata["step"], h.next)
                             for h in rec.get_state_history(cfg)]))

# an error in one of two parallel nodes: the other's writes are kept
runs.clear()
fail["three"] = True
par = (
    StateGraph(Seq).add_node("side", r_side).add_node("three", r_three)
    .add_edge(START, "side").add_edge(START, "three")
    .compile(checkpointer=InMemorySaver())
)
cfg = {"configurable": {"thread_id": "par"}}
try:
    par.invoke({"log": []}, cfg)
except RuntimeError as e:
    show("PAR-ERR", repr(e))
st = par.get_state(cfg)
show("PAR-state", (st.values, st.next, sorted((t.name, repr(t.error), t.result) for t in st.tasks)))
fail["three"] = False
show("PAR-resume", par.invoke(None, cfg))
show("PAR-runs", sorted(runs))


# -- Starting points: a subgraph called inside a node restarts that parent node ----------------------
runs.clear()
fail["sub"] = True


def sub_work(state: Seq):
    runs.append("sub_work")
    if fail["sub"]:
        raise RuntimeError("sub failed")
    return {"log": ["sub_work"]}


sub = StateGraph(Seq).add_node("sub_work", sub_work).add_edge(START, "sub_work").compile()


def parent_node(state: Seq):
    runs.append("parent_node")
    return {"log": sub.invoke({"log": []})["log"]}


parent = (
    StateGraph(Seq).add_node("first", r_one).add_node("parent_node", parent_node)
    .add_edge(START, "first").add_edge("first", "parent_node")
    .compile(checkpointer=InMemorySaver())
)
cfg = {"configurable": {"thread_id": "sub"}}
try:
    parent.invoke({"log": []}, cfg)
except RuntimeError as e:
    show("SUB-ERR", repr(e))
show("SUB-next", parent.get_state(cfg).next)
fail["sub"] = False
show("SUB-resume", parent.invoke(None, cfg))
show("SUB-runs", runs)


# -- Functional API: the entrypoint restarts, finished tasks are replayed from the checkpoint --------
runs.clear()
fail["f"] = True


@task
def fetch(url: str) -> str:
    runs.append(f"fetch {url}")
    return fake_get(url)


@task
def flaky_summary(pages: list[str]) -> str:
    runs.append("summary")
    if fail["f"]:
        raise RuntimeError("summary failed")
    return f"{len(pages)} pages"


@entrypoint(checkpointer=InMemorySaver())
def pipeline(urls: list[str]) -> dict:
    runs.append("entrypoint")
    pages = [f.result() for f in [fetch(u) for u in urls]]
    return {"summary": flaky_summary(pages).result()}


cfg = {"configurable": {"thread_id": "func"}}
try:
    pipeline.invoke(["a", "b"], cfg)
except RuntimeError as e:
    show("FUNC-ERR", repr(e))
fail["f"] = False
show("FUNC-resume", pipeline.invoke(None, cfg))
show("FUNC-runs", sorted(runs))
for mode in ("sync", "exit"):
    cfg = {"configurable": {"thread_id": f"func-{mode}"}}
    show("FUNC-durability", (mode, list(pipeline.stream(["c"], cfg, durability=mode)),
                             [(h.metadata["source"], h.metadata["step"])
                              for h in pipeline.get_state_history(cfg)]))


# -- durability="exit" with an interrupt: the checkpoint saved at the pause keeps the
#    interrupt and the finished parallel node's writes, and the resume answers it ------
exit_calls = []


def e_one(state: Seq):
    exit_calls.append("one")
    return {"log": ["one"]}


def e_side(state: Seq):
    exit_calls.append("side")
    return {"log": ["side"]}


def e_ask(state: Seq):
    exit_calls.append("ask")
    return {"log": [interrupt("q?")]}


ex = (
    StateGraph(Seq).add_node("one", e_one).add_node("ask", e_ask).add_node("side", e_side)
    .add_edge(START, "one").add_edge("one", "ask").add_edge("one", "side")
    .compile(checkpointer=InMemorySaver())
)
cfg = {"configurable": {"thread_id": "exit-int"}}
r = ex.invoke({"log": []}, cfg, durability="exit")
show("EXIT-INT-1", (r["log"], [i.value for i in r["__interrupt__"]]))
st = ex.get_state(cfg)
show("EXIT-INT-state", (st.next, [(t.name, len(t.interrupts), t.result) for t in st.tasks],
                        [i.value for i in st.interrupts], st.metadata["step"]))
show("EXIT-INT-hist", [(h.metadata["source"], h.metadata["step"], h.next) for h in ex.get_state_history(cfg)])
show("EXIT-INT-2", ex.invoke(Command(resume={st.interrupts[0].id: "ans"}), cfg, durability="exit"))
show("EXIT-INT-calls", sorted(exit_calls))
show("EXIT-INT-hist-2", [(h.metadata["source"], h.metadata["step"], h.next) for h in ex.get_state_history(cfg)])
