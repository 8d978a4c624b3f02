"""GAP (not in the passing list): the persistence page's store-in-a-graph example
written with ``Runtime[Context]``; rillet has no ``rillet.runtime.Runtime`` yet. Run on LangGraph 1.2.22 and on rillet.

https://docs.langchain.com/oss/python/langgraph/persistence
(threads, checkpoints, get_state / get_state_history, replay, update_state, the memory
store used from a graph). LLM calls are replaced by deterministic functions.
"""
from operator import add
from typing import Annotated

from typing_extensions import TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from dataclasses import dataclass
from langgraph.runtime import Runtime
from langgraph.graph import START, END, StateGraph, MessagesState
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore
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


# -- Using the store in a graph: the page's Runtime[Context] version ---------------------
@dataclass
class Context:
    user_id: str


def call_model(state: MessagesState, runtime: Runtime[Context]):
    user_id = runtime.context.user_id
    namespace = (user_id, "memories")
    memories = runtime.store.search(namespace)
    info = "\n".join([d.value["data"] for d in memories])
    last = state["messages"][-1]
    n = len(state["messages"])
    if "remember" in last.content.lower():
        memory = last.content.split(": ", 1)[-1]
        runtime.store.put(namespace, f"mem-{n}", {"data": memory})
    return {"messages": [AIMessage(content=f"[{info}] reply {n}", id=f"ai-{n}")]}


builder = StateGraph(MessagesState, context_schema=Context)
builder.add_node("call_model", call_model)
builder.add_edge(START, "call_model")
mstore = InMemoryStore()
mgraph = builder.compile(checkpointer=InMemorySaver(), store=mstore)

config = {"configurable": {"thread_id": "1"}}
for update in mgraph.stream(
    {"messages": [HumanMessage(content="Hi! Remember: my name is Bob", id="h1")]},
    config, stream_mode="updates", context=Context(user_id="1"),
):
    show("MEM-t1", update)
show("MEM-store", [(m.namespace, m.key, m.value) for m in mstore.search(("1", "memories"))])
config = {"configurable": {"thread_id": "2"}}
for update in mgraph.stream(
    {"messages": [HumanMessage(content="what is my name?", id="h2")]},
    config, stream_mode="values", context=Context(user_id="1"),
):
    show("MEM-t2", update)
for update in mgraph.stream(
    {"messages": [HumanMessage(content="what is my name?", id="h3")]},
    {"configurable": {"thread_id": "3"}}, stream_mode="values", context=Context(user_id="2"),
):
    show("MEM-t3-other-user", update["messages"][-1].content)


