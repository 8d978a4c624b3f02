"""The LangGraph documentation's persistence page, run on LangGraph 1.2.22 and on rillet.

https://docs.langchain.com/oss/python/langgraph/persistence
(threads, checkpoints, get_state / get_state_history, replay, update_state, the memory
store used from a graph). LLM calls are replaced by deterministic functions.
"""
from operator import add
from typing import Annotated

from typing_extensions import TypedDict

from langgraph.checkpoint.memory import InMemorySaver
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


# -- Checkpoints: the page's two-node graph -------------------------------------------
class State(TypedDict):
    foo: str
    bar: Annotated[list[str], add]


def node_a(state: State):
    return {"foo": "a", "bar": ["a"]}


def node_b(state: State):
    return {"foo": "b", "bar": ["b"]}


workflow = StateGraph(State)
workflow.add_node(node_a)
workflow.add_node(node_b)
workflow.add_edge(START, "node_a")
workflow.add_edge("node_a", "node_b")
workflow.add_edge("node_b", END)

checkpointer = InMemorySaver()
graph = workflow.compile(checkpointer=checkpointer)

config = {"configurable": {"thread_id": "1"}}
show("INVOKE", graph.invoke({"foo": "", "bar": []}, config))

# -- Get state -------------------------------------------------------------------------
snapshot = graph.get_state(config)
show("GET-STATE", snapshot)
show("GET-STATE-fields", (snapshot.values, snapshot.next, snapshot.metadata, snapshot.tasks,
                          snapshot.interrupts, sorted(snapshot.config["configurable"])))

# -- Get state history: newest first, four checkpoints -----------------------------------
history = list(graph.get_state_history(config))
show("HISTORY-len", len(history))
for s in history:
    show("HISTORY", (s.values, s.next, s.metadata["source"], s.metadata["step"],
                     [(t.name, t.result) for t in s.tasks],
                     s.parent_config is None))
show("HISTORY-parent-chain", [
    s.parent_config["configurable"]["checkpoint_id"] == history[i + 1].config["configurable"]["checkpoint_id"]
    for i, s in enumerate(history[:-1])
])

# the state at a given checkpoint_id
before_b = next(s for s in history if s.next == ("node_b",))
cid = before_b.config["configurable"]["checkpoint_id"]
at = graph.get_state({"configurable": {"thread_id": "1", "checkpoint_id": cid}})
show("GET-STATE-at-id", (at.values, at.next, at.metadata["step"],
                         at.config["configurable"]["checkpoint_id"] == cid))

# the history filtered, limited, before
show("HISTORY-limit", [s.metadata["step"] for s in graph.get_state_history(config, limit=2)])
show("HISTORY-before", [s.metadata["step"] for s in graph.get_state_history(config, before=before_b.config)])
show("HISTORY-filter", [s.metadata["step"] for s in graph.get_state_history(config, filter={"source": "loop"})])

# find a checkpoint: the one before node_b ran; and the last one
show("FIND-before-node_b", (before_b.values, before_b.next))
show("FIND-last", (history[0].values, history[0].next))

# -- Replay: from a prior checkpoint, nodes after it re-run -----------------------------
for event in graph.stream(None, before_b.config, stream_mode="values"):
    show("REPLAY", event)
show("REPLAY-history-len", len(list(graph.get_state_history(config))))
show("REPLAY-state", graph.get_state(config).values)

# -- Update state: reducers apply, as_node picks the writer -------------------------------
cfg2 = {"configurable": {"thread_id": "2"}}
graph.invoke({"foo": "", "bar": []}, cfg2)
new_cfg = graph.update_state(cfg2, {"foo": 2, "bar": ["b"]})
show("UPDATE-cfg-keys", sorted(new_cfg["configurable"]))
st = graph.get_state(cfg2)
show("UPDATE-state", (st.values, st.next, st.metadata))
graph.update_state(cfg2, {"bar": ["c"]}, as_node="node_a")
st = graph.get_state(cfg2)
show("UPDATE-as-node_a", (st.values, st.next, st.metadata["source"], st.metadata["step"]))
show("UPDATE-continue", graph.invoke(None, cfg2))

# -- Memory store in isolation ----------------------------------------------------------
in_memory_store = InMemoryStore()
user_id = "1"
namespace_for_memory = (user_id, "memories")
memory_id = "m-1"
memory = {"food_preference": "I like pizza"}
in_memory_store.put(namespace_for_memory, memory_id, memory)
memories = in_memory_store.search(namespace_for_memory)
show("STORE-search", [m.dict() for m in memories])
show("STORE-item-fields", (memories[-1].namespace, memories[-1].key, memories[-1].value,
                           memories[-1].score))


# -- Semantic search with a deterministic embedding --------------------------------------
def embed(texts: list[str]) -> list[list[float]]:
    return [[float("pizza" in t.lower()), float("ramen" in t.lower()), 1.0] for t in texts]


sem_store = InMemoryStore(index={"embed": embed, "dims": 3, "fields": ["food_preference", "$"]})
sem_store.put(namespace_for_memory, "p", {"food_preference": "I love pizza"})
sem_store.put(namespace_for_memory, "r", {"food_preference": "Ramen is great"})
sem_store.put(namespace_for_memory, "x", {"system_info": "Last updated: 2024-01-01"}, index=False)
hits = sem_store.search(namespace_for_memory, query="What does the user like to eat? pizza", limit=3)
show("STORE-semantic", [(h.key, h.value, round(h.score, 4) if h.score is not None else None)
                        for h in hits])


# -- The older store-parameter form: store: BaseStore and config -------------------------
def update_memory(state: MessagesState, config, *, store: BaseStore):
    user_id = config["configurable"]["user_id"]
    namespace = (user_id, "memories")
    store.put(namespace, state["messages"][-1].id, {"memory": state["messages"][-1].content})
    return {"messages": [AIMessage(content="saved", id="ai-saved")]}


def read_memory(state: MessagesState, config, *, store: BaseStore):
    ns = (config["configurable"]["user_id"], "memories")
    return {"messages": [AIMessage(content=str([m.value for m in store.search(ns)]), id="ai-read")]}


b2 = StateGraph(MessagesState)
b2.add_node("update_memory", update_memory)
b2.add_node("read_memory", read_memory)
b2.add_edge(START, "update_memory")
b2.add_edge("update_memory", "read_memory")
g2 = b2.compile(checkpointer=InMemorySaver(), store=InMemoryStore())
out = g2.invoke({"messages": [HumanMessage(content="I like jazz", id="u1")]},
                {"configurable": {"thread_id": "a", "user_id": "u"}})
show("STOREPARAM", [(m.type, m.content) for m in out["messages"]])
out = g2.invoke({"messages": [HumanMessage(content="and blues", id="u2")]},
                {"configurable": {"thread_id": "b", "user_id": "u"}})
show("STOREPARAM-cross-thread", out["messages"][-1].content)
