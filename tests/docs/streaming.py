"""Examples of "Streaming", run on LangGraph 1.2.22 and on rillet.

Page: https://docs.langchain.com/oss/python/langgraph/streaming
(stream modes updates / values / multiple modes / subgraphs=True / debug / checkpoints /
tasks / messages with metadata, filtering by tags and by node / custom with
get_stream_writer, from nodes and from tools / astream). The chat models are
LangChain's GenericFakeChatModel with fixed answers.
"""
import asyncio
from dataclasses import dataclass
from typing import Any
from typing_extensions import TypedDict
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.tools import tool
from langgraph.graph import StateGraph, START, END, MessagesState
from langgraph.config import get_stream_writer
from langgraph.types import StreamWriter
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


def show(tag, chunk):
    print(tag, chunk)


# --- Basic usage: stream graph state
class State(TypedDict):
    topic: str
    joke: str


def refine_topic(state: State):
    return {"topic": state["topic"] + " and cats"}


def generate_joke(state: State):
    return {"joke": f"This is a joke about {state['topic']}"}


graph = (
    StateGraph(State)
    .add_node(refine_topic)
    .add_node(generate_joke)
    .add_edge(START, "refine_topic")
    .add_edge("refine_topic", "generate_joke")
    .add_edge("generate_joke", END)
    .compile()
)
for chunk in graph.stream({"topic": "ice cream"}, stream_mode="updates"):
    show("UPDATES", chunk)
for chunk in graph.stream({"topic": "ice cream"}, stream_mode="values"):
    show("VALUES", chunk)
for chunk in graph.stream({"topic": "ice cream"}):
    show("DEFAULT", chunk)
for mode, chunk in graph.stream({"topic": "ice cream"}, stream_mode=["updates", "values"]):
    show("MULTI", (mode, chunk))
for chunk in graph.stream({"topic": "ice cream"}, stream_mode=["updates"]):
    show("ONE-IN-LIST", chunk)
for chunk in graph.stream({"topic": "ice cream"}, stream_mode="debug"):
    show("DEBUG", chunk)
for chunk in graph.stream({"topic": "ice cream"}, stream_mode="tasks"):
    show("TASKS", chunk)
cgraph = (
    StateGraph(State)
    .add_node(refine_topic)
    .add_node(generate_joke)
    .add_edge(START, "refine_topic")
    .add_edge("refine_topic", "generate_joke")
    .compile(checkpointer=InMemorySaver())
)
for chunk in cgraph.stream({"topic": "ice cream"}, {"configurable": {"thread_id": "1"}}, stream_mode="checkpoints"):
    show("CHECKPOINTS", chunk)
for chunk in cgraph.stream({"topic": "pie"}, {"configurable": {"thread_id": "2"}}, stream_mode="debug"):
    show("DEBUG-CKPT", chunk)


# --- Stream subgraph outputs
class SubgraphState(TypedDict):
    foo: str
    bar: str


def subgraph_node_1(state: SubgraphState):
    return {"bar": "bar"}


def subgraph_node_2(state: SubgraphState):
    return {"foo": state["foo"] + state["bar"]}


subgraph_builder = StateGraph(SubgraphState)
subgraph_builder.add_node(subgraph_node_1)
subgraph_builder.add_node(subgraph_node_2)
subgraph_builder.add_edge(START, "subgraph_node_1")
subgraph_builder.add_edge("subgraph_node_1", "subgraph_node_2")
subgraph = subgraph_builder.compile()


class ParentState(TypedDict):
    foo: str


def node_1(state: ParentState):
    return {"foo": "hi! " + state["foo"]}


builder = StateGraph(ParentState)
builder.add_node("node_1", node_1)
builder.add_node("node_2", subgraph)
builder.add_edge(START, "node_1")
builder.add_edge("node_1", "node_2")
graph = builder.compile()
for chunk in graph.stream({"foo": "foo"}, stream_mode="updates", subgraphs=True):
    show("SUBGRAPHS", chunk)
for chunk in graph.stream({"foo": "foo"}, stream_mode="updates"):
    show("NO-SUBGRAPHS", chunk)
for chunk in graph.stream({"foo": "foo"}, stream_mode=["values", "updates"], subgraphs=True):
    show("SUBGRAPHS-MULTI", chunk)
for chunk in graph.stream({"foo": "foo"}, stream_mode="debug", subgraphs=True):
    show("SUBGRAPHS-DEBUG", chunk)


# --- LLM tokens: stream_mode="messages"
@dataclass
class MyState:
    topic: str
    joke: str = ""


model = GenericFakeChatModel(messages=iter([
    "Why did the ice cream truck break down? It had a meltdown.",
    "Why do cats love ice cream? Brain freeze purrs.",
]))


def call_model(state: MyState):
    """Call the LLM to generate a joke about a topic"""
    model_response = model.invoke([{"role": "user", "content": f"Generate a joke about {state.topic}"}])
    return {"joke": model_response.content}


graph = (
    StateGraph(MyState)
    .add_node(call_model)
    .add_edge(START, "call_model")
    .compile()
)
for message_chunk, metadata in graph.stream({"topic": "ice cream"}, stream_mode="messages"):
    if message_chunk.content:
        print(message_chunk.content, end="|", flush=True)
print()
for message_chunk, metadata in graph.stream({"topic": "cats"}, stream_mode="messages"):
    print("MSG", message_chunk)
    print("META", {k: metadata.get(k) for k in ("langgraph_step", "langgraph_node", "langgraph_triggers", "langgraph_path", "ls_provider", "ls_model_type")})
    print("META-NS", metadata["langgraph_checkpoint_ns"].split(":")[0], metadata["checkpoint_ns"] == metadata["langgraph_checkpoint_ns"])


# --- Filter by LLM invocation (tags)
joke_model = GenericFakeChatModel(messages=iter(["cats joke"])).with_config(tags=["joke"])
poem_model = GenericFakeChatModel(messages=iter(["cats poem here"])).with_config(tags=["poem"])


class State(TypedDict):
    topic: str
    joke: str
    poem: str


def call_models(state, config):
    topic = state["topic"]
    joke_response = joke_model.invoke([{"role": "user", "content": f"Write a joke about {topic}"}], config)
    poem_response = poem_model.invoke([{"role": "user", "content": f"Write a short poem about {topic}"}], config)
    return {"joke": joke_response.content, "poem": poem_response.content}


graph = (
    StateGraph(State)
    .add_node(call_models)
    .add_edge(START, "call_models")
    .compile()
)
for msg, metadata in graph.stream({"topic": "cats"}, stream_mode="messages"):
    print("TAGS", msg.content, metadata.get("tags"))
    if metadata["tags"] == ["joke"]:
        print("JOKE-TOKEN", msg.content)


# --- Filter by node
class State(TypedDict):
    topic: str
    joke: str
    poem: str


jm = GenericFakeChatModel(messages=iter(["a joke"]))
pm = GenericFakeChatModel(messages=iter(["a poem"]))


def write_joke(state: State):
    topic = state["topic"]
    joke_response = jm.invoke([{"role": "user", "content": f"Write a joke about {topic}"}])
    return {"joke": joke_response.content}


def write_poem(state: State):
    topic = state["topic"]
    poem_response = pm.invoke([{"role": "user", "content": f"Write a short poem about {topic}"}])
    return {"poem": poem_response.content}


graph = (
    StateGraph(State)
    .add_node(write_joke)
    .add_node(write_poem)
    .add_edge(START, "write_joke")
    .add_edge("write_joke", "write_poem")
    .compile()
)
for msg, metadata in graph.stream({"topic": "cats"}, stream_mode="messages"):
    if msg.content and metadata["langgraph_node"] == "write_poem":
        print("POEM-TOKEN", repr(msg.content))


# --- Messages from a subgraph, with subgraphs=True
sub_model = GenericFakeChatModel(messages=iter(["sub answer"]))


def sub_llm(state: MessagesState):
    return {"messages": [sub_model.invoke(state["messages"])]}


sub = StateGraph(MessagesState).add_node(sub_llm).add_edge(START, "sub_llm").compile()
parent = StateGraph(MessagesState).add_node("child", sub).add_edge(START, "child").compile()
for ns, (msg, metadata) in parent.stream({"messages": [("user", "hi")]}, stream_mode="messages", subgraphs=True):
    print("SUB-MSG", ns[0].split(":")[0] if ns else ns, len(ns), repr(msg.content), metadata["langgraph_node"], metadata["langgraph_path"])


# --- Stream custom data
class State(TypedDict):
    query: str
    answer: str


def node(state: State):
    writer = get_stream_writer()
    writer({"custom_key": "Generating custom data inside node"})
    return {"answer": "some data"}


graph = (
    StateGraph(State)
    .add_node(node)
    .add_edge(START, "node")
    .compile()
)
inputs = {"query": "example"}
for chunk in graph.stream(inputs, stream_mode="custom"):
    show("CUSTOM", chunk)
for chunk in graph.stream(inputs, stream_mode=["updates", "custom"]):
    show("CUSTOM-MULTI", chunk)
print("CUSTOM-INVOKE", graph.invoke(inputs))


def node_with_writer(state: State, writer: StreamWriter):
    writer({"progress": 50})
    writer("plain string")
    return {"answer": "done"}


graph = StateGraph(State).add_node(node_with_writer).add_edge(START, "node_with_writer").compile()
for chunk in graph.stream(inputs, stream_mode="custom"):
    show("WRITER-PARAM", chunk)


@tool
def query_database(query: str) -> str:
    """Query the database."""
    writer = get_stream_writer()
    writer({"data": "Retrieved 0/100 records", "type": "progress"})
    writer({"data": "Retrieved 100/100 records", "type": "progress"})
    return "some-answer"


def tool_node(state: State):
    return {"answer": query_database.invoke({"query": state["query"]})}


graph = StateGraph(State).add_node(tool_node).add_edge(START, "tool_node").compile()
for chunk in graph.stream(inputs, stream_mode="custom"):
    show("TOOL-CUSTOM", chunk)


# --- Use with any LLM: custom mode from a node that streams by hand
def call_arbitrary_model(state):
    writer = get_stream_writer()
    for chunk in ["Why", " did", " the"]:
        writer({"custom_llm_chunk": chunk})
    return {"answer": "Why did the"}


graph = StateGraph(State).add_node(call_arbitrary_model).add_edge(START, "call_arbitrary_model").compile()
for chunk in graph.stream({"query": "x"}, stream_mode="custom"):
    show("ANY-LLM", chunk)


# --- Async
class State(TypedDict):
    topic: str
    joke: str


amodel = GenericFakeChatModel(messages=iter(["async joke tokens"]))


async def acall_model(state: State):
    writer = get_stream_writer()
    writer({"started": state["topic"]})
    response = await amodel.ainvoke([{"role": "user", "content": state["topic"]}])
    return {"joke": response.content}


graph = StateGraph(State).add_node("call_model", acall_model).add_edge(START, "call_model").compile()


async def main():
    async for mode, chunk in graph.astream({"topic": "cats"}, stream_mode=["custom", "updates", "messages"]):
        if mode == "messages":
            print("ASTREAM", mode, repr(chunk[0].content), chunk[1]["langgraph_node"])
        else:
            print("ASTREAM", mode, chunk)


asyncio.run(main())
