"""Callback handlers: per call, per model, and from a graph run's config."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from rillet.callbacks import CallbackHandler, adispatch_custom_event, dispatch_custom_event
from rillet.graph import START, StateGraph
from rillet.messages import AIMessage, AIMessageChunk
from rillet.models import ChatModel, FakeChatModel


class Recorder(CallbackHandler):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_chat_model_start(self, serialized, messages, *, run_id, **kwargs):
        self.events.append(("start", [m.content for m in messages[0]]))

    def on_llm_new_token(self, token, *, chunk=None, run_id, **kwargs):
        assert isinstance(chunk, AIMessageChunk) and chunk.content == token
        self.events.append(("token", token))

    def on_llm_end(self, response, *, run_id, **kwargs):
        assert isinstance(response, AIMessage)
        self.events.append(("end", response.content))

    def on_llm_error(self, error, *, run_id, **kwargs):
        self.events.append(("error", str(error)))

    def on_custom_event(self, name, data, *, run_id, **kwargs):
        self.events.append(("custom", (name, data)))


def test_seed_003_new_token_handler() -> None:
    """Seed 003's callback-handler example, in Python."""
    tokens: list[dict[str, str]] = []

    class Handler(CallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            tokens.append({"token": token})

    model = FakeChatModel(["Q: Why did the chicken cross the playground?"])
    response = model.invoke("Tell me a joke.", config={"callbacks": [Handler()]})
    assert [t["token"] for t in tokens] == [
        "Q:", " Why", " did", " the", " chicken", " cross", " the", " playground?"
    ]
    assert response.content == "Q: Why did the chicken cross the playground?"


def test_handler_lifecycle_per_call() -> None:
    recorder = Recorder()
    FakeChatModel(["hi there"]).invoke("hello", callbacks=[recorder])
    assert recorder.events == [
        ("start", ["hello"]), ("token", "hi"), ("token", " there"), ("end", "hi there"),
    ]


def test_stream_calls_handlers_too() -> None:
    recorder = Recorder()
    chunks = list(FakeChatModel(["a b"]).stream("x", config={"callbacks": [recorder]}))
    assert [c.content for c in chunks] == ["a", " b"]
    assert recorder.events[-1] == ("end", "a b")


def test_model_level_handlers_via_with_config() -> None:
    recorder = Recorder()
    model = FakeChatModel(["ok"]).with_config(callbacks=[recorder])
    model.invoke("x")
    assert recorder.events == [("start", ["x"]), ("token", "ok"), ("end", "ok")]


@pytest.mark.parametrize("use_async", [False, True])
async def test_run_config_handlers_reach_every_model_call(use_async: bool) -> None:
    class S(TypedDict):
        a: str
        b: str

    model_a, model_b = FakeChatModel(["one"]), FakeChatModel(["two"])

    def node_a(state: S) -> dict:
        return {"a": model_a.invoke("first").content}

    async def node_b(state: S) -> dict:
        return {"b": (await model_b.ainvoke("second")).content}

    sub = StateGraph(S).add_node("node_b", node_b).add_edge(START, "node_b").compile()
    graph = (
        StateGraph(S)
        .add_node("node_a", node_a)
        .add_node("sub", sub)
        .add_edge(START, "node_a")
        .add_edge("node_a", "sub")
        .compile()
    )
    recorder = Recorder()
    config = {"callbacks": [recorder]}
    if use_async:
        result = await graph.ainvoke({"a": "", "b": ""}, config)
    else:
        result = graph.invoke({"a": "", "b": ""}, config)
    assert result == {"a": "one", "b": "two"}
    assert recorder.events == [
        ("start", ["first"]), ("token", "one"), ("end", "one"),
        ("start", ["second"]), ("token", "two"), ("end", "two"),
    ]


async def test_async_handlers_are_awaited() -> None:
    seen: list[str] = []

    class AsyncHandler(CallbackHandler):
        async def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            seen.append(token)

    await FakeChatModel(["x y"]).ainvoke("q", callbacks=[AsyncHandler()])
    FakeChatModel(["z"]).invoke("q", callbacks=[AsyncHandler()])
    assert seen == ["x", " y", "z"]


def test_failing_handler_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(CallbackHandler):
        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            raise RuntimeError("handler bug")

    assert FakeChatModel(["fine"]).invoke("q", callbacks=[Broken()]).content == "fine"
    assert "Broken.on_llm_new_token failed" in caplog.text

    class Strict(Broken):
        raise_error = True

    with pytest.raises(RuntimeError, match="handler bug"):
        FakeChatModel(["fine"]).invoke("q", callbacks=[Strict()])


def test_on_llm_error() -> None:
    class Failing(ChatModel):
        def _stream(self, messages, **kwargs):
            yield AIMessageChunk(content="partial")
            raise ConnectionError("server went away")

    recorder = Recorder()
    with pytest.raises(ConnectionError):
        Failing().invoke("q", callbacks=[recorder])
    assert recorder.events[-1] == ("error", "server went away")


@pytest.mark.parametrize("use_async", [False, True])
async def test_custom_events_reach_handlers(use_async: bool) -> None:
    class S(TypedDict):
        x: int

    def node(state: S) -> dict:
        dispatch_custom_event("progress", {"pct": 50})
        return {"x": 1}

    async def anode(state: S) -> dict:
        await adispatch_custom_event("progress", {"pct": 50})
        return {"x": 1}

    graph = StateGraph(S).add_node("n", anode if use_async else node).add_edge(START, "n")
    compiled = graph.compile()
    recorder = Recorder()
    if use_async:
        await compiled.ainvoke({"x": 0}, {"callbacks": [recorder]})
    else:
        compiled.invoke({"x": 0}, {"callbacks": [recorder]})
    assert recorder.events == [("custom", ("progress", {"pct": 50}))]


def test_dispatch_outside_a_run_needs_a_config() -> None:
    with pytest.raises(RuntimeError, match="outside a running graph"):
        dispatch_custom_event("x", 1)
    recorder = Recorder()
    dispatch_custom_event("x", 1, config={"callbacks": [recorder]})
    assert recorder.events == [("custom", ("x", 1))]
    with pytest.raises(ValueError, match="non-empty str"):
        dispatch_custom_event("", 1, config={})
