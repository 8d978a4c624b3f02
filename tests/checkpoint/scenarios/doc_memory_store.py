"""The LangGraph documentation's memory pages, run on LangGraph 1.2.22 and on rillet.

https://docs.langchain.com/oss/python/langgraph/add-memory
https://docs.langchain.com/oss/python/langgraph/stores
(short-term memory with a checkpointer, deleting messages, long-term memory with
InMemoryStore: put/get/search/filter/list_namespaces/delete, a node using ``store``,
cross-thread memory, ``get_store()``, semantic search with a deterministic embedding,
the async store methods). Chat models are replaced by deterministic functions.
"""
import asyncio

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.config import get_store
from langgraph.graph import START, StateGraph, MessagesState
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from langgraph.store.base import BaseStore, GetOp, PutOp, SearchOp, ListNamespacesOp
from langgraph.store.memory import InMemoryStore
from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage
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


def model(messages):
    names = [m.content.split("i'm ", 1)[1] for m in messages
             if m.type == "human" and "i'm " in m.content]
    if "name" in messages[-1].content:
        text = f"Your name is {names[-1]}." if names else "I don't know your name."
    else:
        text = f"Hi! ({len(messages)} messages)"
    return AIMessage(content=text, id=f"ai-{len(messages)}")


# -- Short-term memory: a checkpointer keeps a thread's messages ---------------------------
def call_model(state: MessagesState):
    return {"messages": model(state["messages"])}


builder = StateGraph(MessagesState)
builder.add_node(call_model)
builder.add_edge(START, "call_model")
checkpointer = InMemorySaver()
graph = builder.compile(checkpointer=checkpointer)

config = {"configurable": {"thread_id": "1"}}
for chunk in graph.stream({"messages": [HumanMessage(content="hi! i'm bob", id="h1")]}, config,
                          stream_mode="values"):
    show("STM-1", chunk["messages"][-1])
for chunk in graph.stream({"messages": [HumanMessage(content="what's my name?", id="h2")]}, config,
                          stream_mode="values"):
    show("STM-2", chunk["messages"][-1].content)
show("STM-other-thread", graph.invoke({"messages": [HumanMessage(content="what's my name?", id="h3")]},
                                      {"configurable": {"thread_id": "2"}})["messages"][-1].content)


# -- Delete messages: RemoveMessage and REMOVE_ALL_MESSAGES ---------------------------------
def delete_messages(state):
    messages = state["messages"]
    if len(messages) > 2:
        return {"messages": [RemoveMessage(id=m.id) for m in messages[:2]]}


builder = StateGraph(MessagesState)
builder.add_sequence([call_model, delete_messages])
builder.add_edge(START, "call_model")
app = builder.compile(checkpointer=InMemorySaver())
config = {"configurable": {"thread_id": "del"}}
for event in app.stream({"messages": [HumanMessage(content="hi! i'm bob", id="d1")]}, config,
                        stream_mode="values"):
    show("DEL-1", [(m.type, m.content) for m in event["messages"]])
for event in app.stream({"messages": [HumanMessage(content="what's my name?", id="d2")]}, config,
                        stream_mode="values"):
    show("DEL-2", [(m.type, m.content) for m in event["messages"]])
app.update_state(config, {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES)]})
show("DEL-all", app.get_state(config).values)


# -- Long-term memory: the store on its own -------------------------------------------------------
store = InMemoryStore()
user_id = "my-user"
application_context = "chitchat"
namespace = (user_id, application_context)
store.put(namespace, "a-memory", {
    "rules": ["User likes short, direct language", "User only speaks English & python"],
    "my-key": "my-value",
})
item = store.get(namespace, "a-memory")
show("STORE-get", (item.namespace, item.key, item.value, type(item).__name__))
show("STORE-get-dict", item.dict())
show("STORE-get-missing", store.get(namespace, "nope"))
items = store.search(namespace, filter={"my-key": "my-value"})
show("STORE-search-filter", [(i.key, i.score) for i in items])
show("STORE-search-nomatch", store.search(namespace, filter={"my-key": "other"}))
store.put(namespace, "b-memory", {"my-key": "other", "n": 2})
store.put(("my-user", "work"), "c", {"n": 3})
store.put(("other-user", "chitchat"), "d", {"n": 4})
store.put(("other-user", "chitchat", "deep"), "e", {"n": 5})
show("STORE-search-prefix", [(i.namespace, i.key) for i in store.search(("my-user",))])
show("STORE-search-limit", [i.key for i in store.search(("my-user",), limit=1, offset=1)])
show("STORE-search-all", sorted((i.namespace, i.key) for i in store.search(())))
show("STORE-search-gt", [i.key for i in store.search(("other-user",), filter={"n": {"$gt": 4}})])
show("STORE-ns", store.list_namespaces())
show("STORE-ns-prefix", store.list_namespaces(prefix=("other-user",)))
show("STORE-ns-suffix", store.list_namespaces(suffix=("chitchat",)))
show("STORE-ns-depth", store.list_namespaces(max_depth=1))
show("STORE-ns-limit", store.list_namespaces(limit=2, offset=1))
store.put(namespace, "b-memory", {"my-key": "changed"})
show("STORE-update", store.get(namespace, "b-memory").value)
store.delete(namespace, "b-memory")
show("STORE-delete", (store.get(namespace, "b-memory"), [i.key for i in store.search(namespace)]))
results = store.batch([
    PutOp(("batch",), "x", {"v": 1}),
    GetOp(("batch",), "x"),
    SearchOp(("batch",)),
    ListNamespacesOp(),
])
show("STORE-batch", [(type(r).__name__, r.value if hasattr(r, "value") else r) if not isinstance(r, list)
                     else [getattr(x, "key", x) for x in r] for r in results])

# LangGraph's InMemoryStore lists a namespace once a get() has looked in it, even if
# nothing was ever put there (the line above shows it too: the GetOp made ('batch',)
# visible to the ListNamespacesOp before the PutOp was applied); rillet does not.
ghost = InMemoryStore()
ghost.get(("never-written",), "k")
show("STORE-ghost-ns", ghost.list_namespaces())


async def async_store():
    s = InMemoryStore()
    await s.aput(("a",), "k", {"v": 1})
    got = await s.aget(("a",), "k")
    found = await s.asearch(("a",))
    names = await s.alist_namespaces()
    await s.adelete(("a",), "k")
    return got.value, [f.key for f in found], names, await s.aget(("a",), "k")


show("STORE-async", asyncio.run(async_store()))


# -- Long-term memory in a graph: the store parameter, cross-thread --------------------------------
def remember_node(state: MessagesState, config, *, store: BaseStore):
    user_id = config["configurable"]["user_id"]
    namespace = ("memories", user_id)
    memories = store.search(namespace)
    info = "; ".join(d.value["data"] for d in memories)
    last = state["messages"][-1]
    if "remember" in last.content.lower():
        store.put(namespace, last.id, {"data": last.content.split(": ", 1)[-1]})
    return {"messages": [AIMessage(content=f"memories=[{info}]", id=f"r-{last.id}")]}


builder = StateGraph(MessagesState)
builder.add_node("call_model", remember_node)
builder.add_edge(START, "call_model")
mem_store = InMemoryStore()
graph = builder.compile(checkpointer=InMemorySaver(), store=mem_store)

config = {"configurable": {"thread_id": "1", "user_id": "1"}}
for chunk in graph.stream({"messages": [HumanMessage(content="Hi! Remember: my name is Bob", id="m1")]},
                          config, stream_mode="values"):
    show("LTM-1", chunk["messages"][-1].content)
config = {"configurable": {"thread_id": "2", "user_id": "1"}}
for chunk in graph.stream({"messages": [HumanMessage(content="what is my name?", id="m2")]},
                          config, stream_mode="values"):
    show("LTM-2", chunk["messages"][-1].content)
for chunk in graph.stream({"messages": [HumanMessage(content="what is my name?", id="m3")]},
                          {"configurable": {"thread_id": "3", "user_id": "2"}}, stream_mode="updates"):
    show("LTM-other-user", chunk)
show("LTM-items", [(i.namespace, i.key, i.value) for i in mem_store.search(("memories",))])


# -- get_store() inside a node ---------------------------------------------------------------------
def with_get_store(state: MessagesState):
    s = get_store()
    s.put(("seen",), "count", {"n": len(state["messages"])})
    return {"messages": [AIMessage(content=str(s.get(("seen",), "count").value), id="gs")]}


gs_store = InMemoryStore()
g = StateGraph(MessagesState).add_node("n", with_get_store).add_edge(START, "n").compile(store=gs_store)
show("GET-STORE", g.invoke({"messages": [HumanMessage(content="x", id="x1")]})["messages"][-1].content)
show("GET-STORE-item", gs_store.get(("seen",), "count").value)


# -- Semantic search with a deterministic embedding -----------------------------------------------------
VOCAB = ["pizza", "pasta", "python", "code", "ramen", "hungry"]


def embed(texts: list[str]) -> list[list[float]]:
    return [[float(t.lower().count(w)) for w in VOCAB] for t in texts]


sem = InMemoryStore(index={"embed": embed, "dims": len(VOCAB)})
sem.put(("user_123", "memories"), "1", {"text": "I love pizza and pasta"})
sem.put(("user_123", "memories"), "2", {"text": "I am a python code plumber"})
sem.put(("user_123", "memories"), "3", {"text": "ramen is my comfort food"})
sem.put(("user_123", "memories"), "4", {"text": "no vector for me"}, index=False)
hits = sem.search(("user_123", "memories"), query="I'm hungry for pizza", limit=2)
show("SEM", [(h.key, h.value["text"], round(h.score, 4)) for h in hits])
hits = sem.search(("user_123", "memories"), query="python code", limit=4)
show("SEM-2", [(h.key, None if h.score is None else round(h.score, 4)) for h in hits])
hits = sem.search(("user_123", "memories"), query="pizza", filter={"text": "ramen is my comfort food"})
show("SEM-filter", [(h.key, h.score) for h in hits])

sem_fields = InMemoryStore(index={"embed": embed, "dims": len(VOCAB), "fields": ["food"]})
sem_fields.put(("u",), "a", {"food": "pizza", "other": "python python"})
sem_fields.put(("u",), "b", {"food": "ramen", "other": "pizza pizza"})
sem_fields.put(("u",), "c", {"food": "pasta", "other": "x"}, index=["other"])
show("SEM-fields", [(h.key, round(h.score, 4)) for h in sem_fields.search(("u",), query="pizza")])


def semantic_node(state: MessagesState, *, store: BaseStore):
    items = store.search(("user_123", "memories"), query=state["messages"][-1].content, limit=1)
    return {"messages": [AIMessage(content=items[0].value["text"], id="sem")]}


g = StateGraph(MessagesState).add_node("n", semantic_node).add_edge(START, "n").compile(store=sem)
show("SEM-node", g.invoke({"messages": [HumanMessage(content="ramen please", id="s1")]})["messages"][-1].content)
