"""``messages`` mode: model tokens with metadata, from nodes and subgraphs, and the
messages nodes return (streamed once)."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from rillet.graph import START, MessagesState, StateGraph
from rillet.messages import AIMessage, AIMessageChunk, HumanMessage
from rillet.models import FakeChatModel
from tests.conftest import scrub


class State(TypedDict):
    topic: str
    joke: str
    poem: str


async def collect(graph, inputs, use_async: bool, **kwargs) -> list[Any]:
    if use_async:
        return [c async for c in graph.astream(inputs, **kwargs)]
    return list(graph.stream(inputs, **kwargs))


@pytest.fixture(params=["sync", "async"])
def use_async(request) -> bool:
    return request.param == "async"


def joke_graph(model: FakeChatModel, use_async: bool):
    if use_async:

        async def call_model(state: State) -> dict:
            prompt = [{"role": "user", "content": f"joke about {state['topic']}"}]
            reply = await model.ainvoke(prompt)
            return {"joke": reply.content}
    else:

        def call_model(state: State) -> dict:
            reply = model.invoke([{"role": "user", "content": f"joke about {state['topic']}"}])
            return {"joke": reply.content}

    return StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()


def expected_metadata(**extra: Any) -> dict[str, Any]:
    return {
        "ls_integration": "langchain_chat_model",
        "langgraph_step": 1,
        "langgraph_node": "call_model",
        "langgraph_triggers": ("branch:to:call_model",),
        "langgraph_path": ("__pregel_pull", "call_model"),
        "langgraph_checkpoint_ns": "call_model:<id>",
        "checkpoint_ns": "call_model:<id>",
        "ls_provider": "fake",
        "ls_model_name": "fake-chat-model",
        "ls_model_type": "chat",
        **extra,
    }


async def test_tokens_with_metadata(use_async: bool) -> None:
    model = FakeChatModel(["Why did the cat sit?"], tags=["joke"])
    items = await collect(joke_graph(model, use_async), {"topic": "cats"}, use_async,
                          stream_mode="messages")
    assert [chunk.content for chunk, _ in items] == ["Why", " did", " the", " cat", " sit?"]
    assert all(isinstance(chunk, AIMessageChunk) for chunk, _ in items)
    assert len({chunk.id for chunk, _ in items}) == 1
    assert scrub(items[0][1]) == expected_metadata(tags=["joke"])


async def test_run_metadata_and_tags_are_merged(use_async: bool) -> None:
    model = FakeChatModel(["hi"], tags=["joke"])
    items = await collect(
        joke_graph(model, use_async), {"topic": "cats"}, use_async, stream_mode="messages",
        config={"metadata": {"user": "u1"}, "tags": ["run"]},
    )
    metadata = scrub(items[0][1])
    assert metadata == {"user": "u1", **expected_metadata(tags=["run", "joke"])}
    assert next(iter(metadata)) == "user"


async def test_final_message_is_not_streamed_twice(use_async: bool) -> None:
    model = FakeChatModel(["hello world"])

    def node(state: MessagesState) -> dict:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState).add_node("node", node).add_edge(START, "node").compile()
    items = await collect(graph, {"messages": [HumanMessage("hi", id="h1")]}, use_async,
                          stream_mode="messages")
    assert [c.content for c, _ in items] == ["hello", " world"]


async def test_returned_message_is_streamed_once(use_async: bool) -> None:
    def node(state: MessagesState) -> dict:
        return {"messages": [AIMessage("x", id="m1"), AIMessage("y")]}

    graph = StateGraph(MessagesState).add_node("node", node).add_edge(START, "node").compile()
    items = await collect(graph, {"messages": [{"role": "user", "content": "hi"}]}, use_async,
                          stream_mode="messages")
    assert [(type(m).__name__, m.content) for m, _ in items] == [("AIMessage", "x"),
                                                                 ("AIMessage", "y")]
    assert items[0][0].id == "m1" and items[1][0].id is not None
    assert scrub(items[0][1]) == {
        "ls_integration": "langgraph",
        "langgraph_step": 1,
        "langgraph_node": "node",
        "langgraph_triggers": ("branch:to:node",),
        "langgraph_path": ("__pregel_pull", "node"),
        "langgraph_checkpoint_ns": "node:<id>",
    }


async def test_input_messages_are_not_streamed(use_async: bool) -> None:
    def node(state: MessagesState) -> dict:
        return {"messages": state["messages"]}  # returns the input again

    graph = StateGraph(MessagesState).add_node("node", node).add_edge(START, "node").compile()
    items = await collect(graph, {"messages": [HumanMessage("hi", id="h1")]}, use_async,
                          stream_mode="messages")
    assert items == []


async def test_nostream_tag_silences_the_model(use_async: bool) -> None:
    model = FakeChatModel(["hello world"], tags=["nostream"])

    def node(state: MessagesState) -> dict:
        return {"messages": [model.invoke(state["messages"])]}

    graph = StateGraph(MessagesState).add_node("node", node).add_edge(START, "node").compile()
    items = await collect(graph, {"messages": [HumanMessage("hi")]}, use_async,
                          stream_mode="messages")
    # Only the final message, as the node returned it.
    assert [(type(m).__name__, m.content) for m, _ in items] == [("AIMessage", "hello world")]


async def test_two_models_in_one_node_filter_by_tags(use_async: bool) -> None:
    joke_model = FakeChatModel(["ha ha"], tags=["joke"])
    poem_model = FakeChatModel(["roses are red"], tags=["poem"])

    async def call_model(state, config):
        joke = await joke_model.ainvoke([{"role": "user", "content": "joke"}], config)
        poem = await poem_model.ainvoke([{"role": "user", "content": "poem"}], config)
        return {"joke": joke.content, "poem": poem.content}

    graph = StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()
    items = await collect(graph, {"topic": "cats"}, use_async, stream_mode="messages")
    poem = [m.content for m, meta in items if "poem" in meta.get("tags", [])]
    joke = [m.content for m, meta in items if "joke" in meta.get("tags", [])]
    assert poem == ["roses", " are", " red"] and joke == ["ha", " ha"]


async def test_filter_by_node(use_async: bool) -> None:
    model = FakeChatModel(["a joke", "a poem"])

    def write_joke(state: State) -> dict:
        return {"joke": model.invoke([{"role": "user", "content": "joke"}]).content}

    def write_poem(state: State) -> dict:
        return {"poem": model.invoke([{"role": "user", "content": "poem"}]).content}

    graph = (
        StateGraph(State)
        .add_node(write_joke)
        .add_node(write_poem)
        .add_edge(START, "write_joke")
        .add_edge(START, "write_poem")
        .compile()
    )
    items = await collect(graph, {"topic": "cats"}, use_async, stream_mode="messages")
    by_node: dict[str, str] = {}
    for msg, meta in items:
        by_node[meta["langgraph_node"]] = by_node.get(meta["langgraph_node"], "") + msg.content
    assert sorted(by_node.values()) == ["a joke", "a poem"]


async def test_subgraph_tokens_only_with_subgraphs(use_async: bool) -> None:
    class S(TypedDict):
        foo: str

    model = FakeChatModel(["hello world", "hello world"])

    def sub_model(state: S) -> dict:
        return {"foo": state["foo"] + model.invoke("hi").content}

    sub = StateGraph(S).add_node(sub_model).add_edge(START, "sub_model").compile()
    parent = StateGraph(S).add_node("parent_node", sub).add_edge(START, "parent_node").compile()
    assert await collect(parent, {"foo": "x"}, use_async, stream_mode="messages") == []
    items = await collect(parent, {"foo": "x"}, use_async, stream_mode="messages",
                          subgraphs=True)
    assert [(scrub(ns), c.content) for ns, (c, _) in items] == [
        (("parent_node:<id>",), "hello"), (("parent_node:<id>",), " world")
    ]
    meta = scrub(items[0][1][1])
    assert meta["langgraph_checkpoint_ns"] == "parent_node:<id>|sub_model:<id>"
    assert meta["langgraph_node"] == "sub_model"


async def test_messages_and_updates_together(use_async: bool) -> None:
    model = FakeChatModel(["hello world"])
    items = await collect(joke_graph(model, use_async), {"topic": "cats"}, use_async,
                          stream_mode=["messages", "updates"])
    assert [(mode, item[0].content if mode == "messages" else item) for mode, item in items] == [
        ("messages", "hello"),
        ("messages", " world"),
        ("updates", {"call_model": {"joke": "hello world"}}),
    ]


def test_model_outside_a_graph_streams_words() -> None:
    model = FakeChatModel(["Tell me a joke. OK"])
    chunks = list(model.stream("Tell me a joke."))
    assert [c.content for c in chunks] == ["Tell", " me", " a", " joke.", " OK"]
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert merged.content == "Tell me a joke. OK"


def test_fake_model_runs_out_of_responses() -> None:
    model = FakeChatModel(["one"])
    model.invoke("x")
    with pytest.raises(IndexError, match="no response left"):
        model.invoke("x")


def test_fake_model_streams_tool_calls() -> None:
    reply = AIMessage(
        "",
        tool_calls=[{"name": "get_items", "args": {"place": "bedroom"}, "id": "call_1"}],
    )
    model = FakeChatModel([reply])
    chunks = list(model.stream("what's in the bedroom?"))
    assert [c.tool_call_chunks[0]["args"] for c in chunks] == ["", '{"place":', ' "bedroom"}']
    message = model.__class__([reply]).invoke("again")
    assert message.tool_calls == [
        {"name": "get_items", "args": {"place": "bedroom"}, "id": "call_1", "type": "tool_call"}
    ]
