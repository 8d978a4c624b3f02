"""``LocalChatModel`` inside a graph: ``messages`` mode metadata, live token delivery,
and an event loop that keeps running while llama.cpp generates.

Timing is proven with handshakes, never with sleeps: a llama.cpp logits processor
runs while the model samples its next token, so a processor that waits for an event
pauses the model mid-answer until the consumer (or a coroutine) sets that event. If
tokens reached the consumer only at the end, or the model blocked the event loop,
the wait would time out and the test would fail.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypedDict

import llama_cpp  # noqa: F401 - required: the test command installs it
import numpy as np
import pytest

from rillet.graph import START, StateGraph
from rillet.messages import AIMessageChunk
from rillet.models import LocalChatModel
from tests.conftest import scrub

JOKE = "Tell me a joke."
HANDSHAKE_TIMEOUT = 30  # a failing test fails after this; a passing one never waits it out


class State(TypedDict):
    joke: str


@pytest.fixture(scope="module")
def model() -> LocalChatModel:
    return LocalChatModel(max_tokens=12, tags=["local"])


def graph(model: LocalChatModel, use_async: bool, **call_kwargs: Any) -> Any:
    if use_async:

        async def call_model(state: State) -> dict[str, Any]:
            return {"joke": (await model.ainvoke(JOKE, **call_kwargs)).content}
    else:

        def call_model(state: State) -> dict[str, Any]:
            return {"joke": model.invoke(JOKE, **call_kwargs).content}

    return StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()


async def collect(graph: Any, use_async: bool, **kwargs: Any) -> list[Any]:
    if use_async:
        return [item async for item in graph.astream({"joke": ""}, **kwargs)]
    return list(graph.stream({"joke": ""}, **kwargs))


@pytest.fixture(params=["sync", "async"])
def use_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "async")


def pause_at(token: int, then: Callable[[], None]) -> Callable[..., Any]:
    """A llama.cpp logits processor that calls ``then`` while the model samples its
    ``token``-th token (1-based), so the model is paused mid-answer."""
    calls = 0

    def processor(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == token:
            then()
        return scores

    return processor


async def test_tokens_stream_with_metadata(model: LocalChatModel, use_async: bool) -> None:
    items = await collect(graph(model, use_async), use_async, stream_mode="messages",
                          config={"metadata": {"user": "u1"}})
    expected = model.invoke(JOKE).content

    assert len(items) == 13  # 12 tokens and the finishing chunk
    assert all(isinstance(chunk, AIMessageChunk) for chunk, _ in items)
    assert "".join(chunk.text for chunk, _ in items) == expected
    assert {scrub(str(meta)) for _, meta in items} == {scrub(str(items[0][1]))}
    assert scrub(items[0][1]) == {
        "user": "u1",
        "ls_integration": "langchain_chat_model",
        "langgraph_step": 1,
        "langgraph_node": "call_model",
        "langgraph_triggers": ("branch:to:call_model",),
        "langgraph_path": ("__pregel_pull", "call_model"),
        "langgraph_checkpoint_ns": "call_model:<id>",
        "checkpoint_ns": "call_model:<id>",
        "ls_provider": "llamacpp",
        "ls_model_name": "SmolLM2-135M-Instruct.Q4_1",
        "ls_model_type": "chat",
        "ls_temperature": 0.0,
        "tags": ["local"],
    }


async def test_the_first_token_reaches_the_consumer_while_the_model_generates(
    model: LocalChatModel, use_async: bool
) -> None:
    got_first = threading.Event()
    log: list[Any] = []

    def model_waits_for_consumer() -> None:
        log.append(("model paused at token 3, consumer has token 1:",
                    got_first.wait(HANDSHAKE_TIMEOUT)))

    run = graph(model, use_async, logits_processor=[pause_at(3, model_waits_for_consumer)])
    items = []
    if use_async:
        async for item in run.astream({"joke": ""}, stream_mode="messages"):
            if not items:
                log.append("consumer got token 1")
                got_first.set()
            items.append(item)
    else:
        for item in run.stream({"joke": ""}, stream_mode="messages"):
            if not items:
                log.append("consumer got token 1")
                got_first.set()
            items.append(item)

    assert log == ["consumer got token 1", ("model paused at token 3, consumer has token 1:", True)]
    assert len(items) == 13  # and the model went on after the pause


async def test_the_event_loop_runs_while_the_model_generates(model: LocalChatModel) -> None:
    first_seen = asyncio.Event()
    ticked = asyncio.Event()  # set by another coroutine, checked by the consumer
    ticked_for_model = threading.Event()
    consumer_saw_tick = threading.Event()
    log: list[Any] = []

    async def other_coroutine() -> None:
        await first_seen.wait()
        log.append("other coroutine ran")
        ticked.set()
        ticked_for_model.set()

    def model_waits_for_other_coroutine() -> None:
        log.append(("model paused at token 3, other coroutine ran:",
                    ticked_for_model.wait(HANDSHAKE_TIMEOUT)))

    def model_waits_for_consumer() -> None:
        log.append(("model paused at token 6, consumer saw the tick:",
                    consumer_saw_tick.wait(HANDSHAKE_TIMEOUT)))

    processors = [pause_at(3, model_waits_for_other_coroutine),
                  pause_at(6, model_waits_for_consumer)]
    other = asyncio.create_task(other_coroutine())
    count = 0
    async for _chunk, _ in graph(model, True, logits_processor=processors).astream(
        {"joke": ""}, stream_mode="messages"
    ):
        count += 1
        if count == 1:
            log.append("consumer got token 1")
            first_seen.set()
        elif count == 3:  # made after the model's pause at token 3, so after the tick
            log.append(("consumer at token 3, the other coroutine's event is set:",
                        ticked.is_set()))
            consumer_saw_tick.set()
    await other

    assert log == [
        "consumer got token 1",
        "other coroutine ran",
        ("model paused at token 3, other coroutine ran:", True),
        ("consumer at token 3, the other coroutine's event is set:", True),
        ("model paused at token 6, consumer saw the tick:", True),
    ]
    assert count == 13
