"""The LangChain bridge: a ``langchain_core`` chat model called inside a node streams
into ``messages`` mode and ``astream_events``; LangChain messages convert to rillet's."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from typing import Any, TypedDict

import langchain_core  # noqa: F401 - required: the test command installs it
import pytest
from langchain_core import messages as lc
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.output_parsers import StrOutputParser

from rillet.graph import START, MessagesState, StateGraph
from rillet.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
    add_messages,
    convert_to_messages,
    to_message,
)
from rillet.models import _langchain
from tests.conftest import scrub


def fake(text: str = "hello world", **kwargs: Any) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([lc.AIMessage(text)]), **kwargs)


class State(TypedDict):
    reply: str


def reply_graph(model: GenericFakeChatModel, how: str, config: dict[str, Any] | None = None):
    """A one-node graph whose node calls ``model``: ``how`` is ``"invoke"`` (sync node)
    or ``"ainvoke"`` (async node)."""
    if how == "ainvoke":

        async def call_model(state: State) -> dict:
            return {"reply": (await model.ainvoke("hi", config)).content}
    else:

        def call_model(state: State) -> dict:
            return {"reply": model.invoke("hi", config).content}

    return StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()


async def collect(graph, inputs, use_async: bool, **kwargs) -> list[Any]:
    if use_async:
        return [c async for c in graph.astream(inputs, **kwargs)]
    return list(graph.stream(inputs, **kwargs))


#: (use astream, how the node calls the model): every driver with sync and async nodes.
RUNS = [(False, "invoke"), (False, "ainvoke"), (True, "invoke"), (True, "ainvoke")]


def node_metadata(node: str = "call_model", **extra: Any) -> dict[str, Any]:
    """A LangChain model call's metadata, as LangGraph's (``tags`` only if any)."""
    return {
        "ls_integration": "langchain_chat_model",
        "langgraph_step": 1,
        "langgraph_node": node,
        "langgraph_triggers": (f"branch:to:{node}",),
        "langgraph_path": ("__pregel_pull", node),
        "langgraph_checkpoint_ns": f"{node}:<id>",
        "checkpoint_ns": f"{node}:<id>",
        **extra,
    }


class TokenCounter(BaseCallbackHandler):
    """A user's plain LangChain handler: it sees tokens only if the model streams."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: Any, **kwargs: Any) -> None:
        self.tokens.append(token)


# ------------------------------------------------------------------ messages mode


@pytest.mark.parametrize(("use_async", "how"), RUNS)
async def test_invoke_streams_tokens_with_metadata(use_async: bool, how: str) -> None:
    items = await collect(reply_graph(fake(), how), {"reply": ""}, use_async,
                          stream_mode="messages")
    assert [chunk.content for chunk, _ in items] == ["hello", " ", "world"]
    assert all(type(chunk) is AIMessageChunk for chunk, _ in items)
    ids = {chunk.id for chunk, _ in items}
    assert len(ids) == 1 and next(iter(ids)).startswith("lc_run-")
    assert [scrub(meta) for _, meta in items] == [
        node_metadata(ls_provider="genericfakechatmodel", ls_model_type="chat")
    ] * 3


@pytest.mark.parametrize(("use_async", "how"), RUNS)
async def test_tags_and_metadata_of_model_call_and_run(use_async: bool, how: str) -> None:
    model = fake(tags=["model-tag"])
    graph = reply_graph(model, how, {"tags": ["call-tag"], "metadata": {"call": 1}})
    items = await collect(graph, {"reply": ""}, use_async, stream_mode="messages",
                          config={"tags": ["run-tag"], "metadata": {"user": "u1"}})
    assert len(items) == 3
    assert scrub(items[0][1]) == {
        "user": "u1",
        **node_metadata(call=1, ls_provider="genericfakechatmodel", ls_model_type="chat"),
        "tags": ["run-tag", "call-tag", "model-tag"],
    }


@pytest.mark.parametrize(("use_async", "how"), RUNS)
async def test_nostream_tag_is_honoured(use_async: bool, how: str) -> None:
    graph = reply_graph(fake(tags=["nostream"]), how)
    items = await collect(graph, {"reply": ""}, use_async, stream_mode=["messages", "updates"])
    assert items == [("updates", {"call_model": {"reply": "hello world"}})]


@pytest.mark.parametrize("use_async", [False, True])
async def test_nostream_on_one_call_leaves_others_streaming(use_async: bool) -> None:
    quiet, loud = fake("quiet one"), fake("loud one")

    def call_model(state: State) -> dict:
        hidden = quiet.invoke("hi", {"tags": ["nostream"]}).content
        return {"reply": hidden + loud.invoke("hi").content}

    graph = StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()
    items = await collect(graph, {"reply": ""}, use_async, stream_mode="messages")
    assert [chunk.content for chunk, _ in items] == ["loud", " ", "one"]


@pytest.mark.parametrize("use_async", [False, True])
async def test_tokens_from_a_subgraph_only_with_subgraphs(use_async: bool) -> None:
    def make_parent():
        model = fake()

        def sub_model(state: State) -> dict:
            return {"reply": model.invoke("hi").content}

        sub = StateGraph(State).add_node(sub_model).add_edge(START, "sub_model").compile()
        return StateGraph(State).add_node("parent_node", sub).add_edge(
            START, "parent_node"
        ).compile()

    assert await collect(make_parent(), {"reply": ""}, use_async, stream_mode="messages") == []
    items = await collect(make_parent(), {"reply": ""}, use_async, stream_mode="messages",
                          subgraphs=True)
    assert [(scrub(ns), chunk.content) for ns, (chunk, _) in items] == [
        (("parent_node:<id>",), "hello"),
        (("parent_node:<id>",), " "),
        (("parent_node:<id>",), "world"),
    ]
    meta = scrub(items[0][1][1])
    assert meta["langgraph_node"] == "sub_model"
    assert meta["langgraph_checkpoint_ns"] == "parent_node:<id>|sub_model:<id>"
    # as LangGraph 1.2.22: the namespace of the graph the model is called in
    assert meta["checkpoint_ns"] == "parent_node:<id>"


@pytest.mark.parametrize("use_async", [False, True])
async def test_parallel_nodes_stream_with_their_own_metadata(use_async: bool) -> None:
    class Pair(TypedDict, total=False):
        a: str
        b: str

    model_a, model_b = fake("a1 a2 a3"), fake("b1 b2 b3")

    def node_a(state: Pair) -> dict:
        return {"a": model_a.invoke("hi").content}

    def node_b(state: Pair) -> dict:
        return {"b": model_b.invoke("hi").content}

    graph = (
        StateGraph(Pair).add_node(node_a).add_node(node_b)
        .add_edge(START, "node_a").add_edge(START, "node_b").compile()
    )
    items = await collect(graph, {}, use_async, stream_mode="messages")
    by_node: dict[str, list[str]] = {}
    for chunk, meta in items:
        by_node.setdefault(meta["langgraph_node"], []).append(chunk.content)
    assert by_node == {"node_a": ["a1", " ", "a2", " ", "a3"],
                       "node_b": ["b1", " ", "b2", " ", "b3"]}


@pytest.mark.parametrize("use_async", [False, True])
async def test_langchain_chain_and_stream_inside_a_node(use_async: bool) -> None:
    chain_model, stream_model = fake("from chain"), fake("from stream")

    def call_model(state: State) -> dict:
        text = (chain_model | StrOutputParser()).invoke("hi")
        text += "".join(str(c.content) for c in stream_model.stream("hi"))
        return {"reply": text}

    graph = StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()
    items = await collect(graph, {"reply": ""}, use_async, stream_mode=["messages", "values"])
    assert [item[0].content if mode == "messages" else item for mode, item in items] == [
        {"reply": ""}, "from", " ", "chain", "from", " ", "stream",
        {"reply": "from chainfrom stream"},
    ]
    # The sequence's own step tag does not reach the metadata (no tags: no key).
    assert "tags" not in items[1][1][1]


# ------------------------------------------------------- messages into the state


@pytest.mark.parametrize(("use_async", "how"), RUNS)
async def test_returned_langchain_message_is_converted_and_not_streamed_twice(
    use_async: bool, how: str
) -> None:
    model = fake()
    if how == "ainvoke":

        async def node(state: MessagesState) -> dict:
            return {"messages": [await model.ainvoke("hi")]}
    else:

        def node(state: MessagesState) -> dict:
            return {"messages": [model.invoke("hi")]}

    graph = StateGraph(MessagesState).add_node("node", node).add_edge(START, "node").compile()
    items = await collect(graph, {"messages": [HumanMessage("hi", id="h1")]}, use_async,
                          stream_mode=["messages", "values"])
    assert [(mode, item[0].content) for mode, item in items if mode == "messages"] == [
        ("messages", "hello"), ("messages", " "), ("messages", "world"),
    ]
    final = items[-1][1]["messages"]
    reply_id = items[1][1][0].id
    assert final == [HumanMessage("hi", id="h1"), AIMessage("hello world", id=reply_id)]
    assert type(final[1]) is AIMessage


@pytest.mark.parametrize("use_async", [False, True])
async def test_streamed_reply_converted_by_the_node_is_not_streamed_again(
    use_async: bool,
) -> None:
    model = fake()

    def node(state: MessagesState) -> dict:
        return {"messages": [to_message(model.invoke("hi"))]}

    graph = StateGraph(MessagesState).add_node("node", node).add_edge(START, "node").compile()
    items = await collect(graph, {"messages": []}, use_async, stream_mode="messages")
    assert [(type(c).__name__, c.content) for c, _ in items] == [
        ("AIMessageChunk", "hello"), ("AIMessageChunk", " "), ("AIMessageChunk", "world"),
    ]


# ---------------------------------------------------------------- astream_events


@pytest.mark.parametrize("how", ["invoke", "ainvoke"])
async def test_astream_events_has_chat_model_events(how: str) -> None:
    graph = reply_graph(fake(tags=["model-tag"]), how)
    events = [e async for e in graph.astream_events({"reply": ""}, version="v2")]
    node_start = next(e for e in events if e["event"] == "on_chain_start"
                      and e["name"] == "call_model")
    chat = [e for e in events if e["event"].startswith("on_chat_model")]
    assert [(e["event"], e["name"]) for e in chat] == [
        ("on_chat_model_start", "GenericFakeChatModel"),
        ("on_chat_model_stream", "GenericFakeChatModel"),
        ("on_chat_model_stream", "GenericFakeChatModel"),
        ("on_chat_model_stream", "GenericFakeChatModel"),
        ("on_chat_model_end", "GenericFakeChatModel"),
    ]
    assert len({e["run_id"] for e in chat}) == 1
    assert all(e["parent_ids"] == [*node_start["parent_ids"], node_start["run_id"]]
               for e in chat)
    assert all(e["tags"] == ["seq:step:1", "model-tag"] for e in chat)  # as LangGraph
    assert scrub(chat[0]["metadata"]) == node_metadata(
        ls_provider="genericfakechatmodel", ls_model_type="chat", tags=["model-tag"]
    )
    inputs = {"messages": [[HumanMessage("hi")]]}
    assert chat[0]["data"] == {"input": inputs}
    assert [e["data"]["chunk"].content for e in chat[1:4]] == ["hello", " ", "world"]
    reply_id = chat[1]["data"]["chunk"].id
    assert chat[4]["data"] == {"output": AIMessage("hello world", id=reply_id), "input": inputs}
    # The node's own events frame the model's.
    assert [e["event"] for e in events].index("on_chat_model_end") < [
        (e["event"], e["name"]) for e in events
    ].index(("on_chain_end", "call_model"))


# ------------------------------------------------------- LangChain left untouched


def test_model_outside_a_run_behaves_as_usual() -> None:
    _langchain.activate()
    counter = TokenCounter()
    reply = fake().invoke("hi", {"callbacks": [counter]})
    assert type(reply) is lc.AIMessage and reply.content == "hello world"
    # Not switched to streaming: no streaming handler was added.
    assert counter.tokens == []
    assert [c.content for c in fake().stream("hi")] == ["hello", " ", "world"]


@pytest.mark.parametrize("use_async", [False, True])
async def test_handler_only_while_a_run_streams_messages_or_events(use_async: bool) -> None:
    seen: list[list[str]] = []

    def call_model(state: State) -> dict:
        counter = TokenCounter()
        fake().invoke("hi", {"callbacks": [counter]})
        seen.append(counter.tokens)
        return {"reply": "done"}

    graph = StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()
    if use_async:
        await graph.ainvoke({"reply": ""})
    else:
        graph.invoke({"reply": ""})
    await collect(graph, {"reply": ""}, use_async, stream_mode="updates")
    await collect(graph, {"reply": ""}, use_async, stream_mode="messages")
    # invoke and an updates stream leave LangChain alone; messages makes it stream.
    assert seen == [[], [], ["hello", " ", "world"]]
    # Nothing is left behind in this context once the runs are over.
    counter = TokenCounter()
    fake().invoke("hi", {"callbacks": [counter]})
    assert counter.tokens == []


def test_activate_is_idempotent() -> None:
    from langchain_core.tracers.context import _configure_hooks

    _langchain.activate()
    _langchain.activate()
    assert [hook for hook in _configure_hooks if hook[0] is _langchain._slot] == [
        (_langchain._slot, True, None, None)
    ]


def test_leaving_the_stream_early_stops_the_model(
    no_leaked_threads: None, caplog: pytest.LogCaptureFixture
) -> None:
    model = fake(" ".join(["word"] * 5000))
    finished: list[bool] = []
    ended = threading.Event()

    def call_model(state: State) -> dict:
        try:
            reply = model.invoke("hi")
        finally:
            ended.set()
        finished.append(True)
        return {"reply": reply.content}

    graph = StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()
    with caplog.at_level(logging.WARNING):
        for _ in graph.stream({"reply": ""}, stream_mode="messages"):
            break
        # The node stops at its next token, on its own thread.
        assert ended.wait(10)
    assert finished == []
    assert _langchain._slot is not None and _langchain._slot.handler.runs == {}
    # Stopping the model is the normal end of an early exit: LangChain logs nothing.
    assert caplog.records == []


def test_rillet_does_not_import_langchain_core() -> None:
    code = textwrap.dedent(
        """
        import sys
        import rillet.graph, rillet.models
        from rillet.graph import START, MessagesState, StateGraph
        from rillet.models import FakeChatModel

        model = FakeChatModel(["hello world"])
        def node(state):
            return {"messages": [model.invoke(state["messages"])]}
        graph = StateGraph(MessagesState).add_node("node", node).add_edge(START, "node")
        items = list(graph.compile().stream({"messages": ["hi"]}, stream_mode="messages"))
        assert [c.content for c, _ in items] == ["hello", " world"], items
        print(sorted(m for m in sys.modules if m.startswith("langchain")))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout == "[]\n"


# ---------------------------------------------------------------- conversions


def test_langchain_messages_convert_by_duck_typing() -> None:
    calls = [{"name": "search", "args": {"q": "x"}, "id": "c1", "type": "tool_call"}]
    usage = {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
    converted = convert_to_messages([
        lc.SystemMessage("be brief", id="s1"),
        lc.HumanMessage("hi", name="ann", id="h1"),
        lc.AIMessage("", tool_calls=calls, usage_metadata=usage,
                     response_metadata={"model": "m"}, additional_kwargs={"k": 1}, id="a1"),
        lc.ToolMessage("found", tool_call_id="c1", status="error", artifact={"raw": 1}),
        lc.RemoveMessage(id="h1"),
        lc.ChatMessage("hello", role="assistant"),
        lc.HumanMessageChunk("part"),
    ])
    assert converted == [
        SystemMessage("be brief", id="s1"),
        HumanMessage("hi", name="ann", id="h1"),
        AIMessage("", tool_calls=calls, usage_metadata=usage,
                  response_metadata={"model": "m"}, additional_kwargs={"k": 1}, id="a1"),
        ToolMessage("found", tool_call_id="c1", status="error", artifact={"raw": 1}),
        RemoveMessage(id="h1"),
        AIMessage("hello"),
        HumanMessage("part"),
    ]


def test_langchain_chunk_converts_with_tool_call_chunks() -> None:
    chunk = lc.AIMessageChunk(
        content=[{"type": "text", "text": "hi", "index": 0}],
        id="r1",
        tool_call_chunks=[{"name": "f", "args": '{"a": ', "id": "c1", "index": 0,
                           "type": "tool_call_chunk"}],
        chunk_position="last",
    )
    assert to_message(chunk) == AIMessageChunk(
        [{"type": "text", "text": "hi", "index": 0}],
        id="r1",
        tool_call_chunks=[{"name": "f", "args": '{"a": ', "id": "c1", "index": 0}],
        chunk_position="last",
    )


def test_converted_message_shares_no_mutable_state() -> None:
    original = lc.AIMessage(["x"], additional_kwargs={"k": [1]}, response_metadata={"m": 1})
    converted = to_message(original)
    original.content.append("y")
    original.additional_kwargs["new"] = 2
    original.response_metadata["new"] = 2
    assert converted.content == ["x"]
    assert converted.additional_kwargs == {"k": [1]}
    assert converted.response_metadata == {"m": 1}


def test_add_messages_takes_langchain_messages() -> None:
    merged = add_messages([HumanMessage("hi", id="h1")],
                          [lc.AIMessage("yo", id="a1"), lc.HumanMessage("again", id="h1")])
    assert merged == [HumanMessage("again", id="h1"), AIMessage("yo", id="a1")]


def test_one_langchain_message_is_not_a_list() -> None:
    with pytest.raises(TypeError, match="got one AIMessage; wrap it in a list"):
        convert_to_messages(lc.AIMessage("x"))


def test_unknown_langchain_message_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot make a message from FunctionMessage"):
        to_message(lc.FunctionMessage("x", name="f"))
