"""stream(version="v2") parts and invoke(version="v2") GraphOutput, run on LangGraph
1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/streaming (version="v2").
"""
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START
from langgraph.config import get_stream_writer
from langgraph.types import interrupt, Command
from langgraph.checkpoint.memory import InMemorySaver
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
    topic: str
    joke: str


def refine_topic(state: State):
    get_stream_writer()({"progress": "refining"})
    return {"topic": state["topic"] + " and cats"}


def generate_joke(state: State):
    return {"joke": f"This is a joke about {state['topic']}"}


graph = (
    StateGraph(State)
    .add_node(refine_topic)
    .add_node(generate_joke)
    .add_edge(START, "refine_topic")
    .add_edge("refine_topic", "generate_joke")
    .compile()
)
for part in graph.stream({"topic": "ice cream"}, stream_mode=["updates", "custom"], version="v2"):
    print("PART", part["type"], part["ns"], part["data"])
for part in graph.stream({"topic": "ice cream"}, stream_mode="values", version="v2"):
    print("VALUES-PART", part)
out = graph.invoke({"topic": "ice cream"}, version="v2")
print("OUTPUT", type(out).__name__, out.value, out.interrupts)


def ask(state: State):
    answer = interrupt("topic?")
    return {"topic": answer}


g = StateGraph(State).add_node(ask).add_edge(START, "ask").compile(checkpointer=InMemorySaver())
cfg = {"configurable": {"thread_id": "v2"}}
out = g.invoke({"topic": "", "joke": ""}, cfg, version="v2")
print("INTERRUPT-OUTPUT", out.value, out.interrupts)
out = g.invoke(Command(resume="dogs"), cfg, version="v2")
print("RESUMED-OUTPUT", out.value, out.interrupts)
