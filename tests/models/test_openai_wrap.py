"""wrap_openai against scripted servers: the caller gets the SDK's own objects, the run
gets AIMessageChunks as they arrive."""

from __future__ import annotations

from typing import Any, TypedDict

import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from rillet.graph import START, StateGraph
from rillet.messages import AIMessageChunk, merge_chunks
from rillet.models import wrap_openai
from tests.conftest import scrub
from tests.models.servers import (
    Gate,
    Reply,
    ScriptedServer,
    chunk,
    completion,
    error,
    run_graph,
    sse,
    text_chunks,
    usage_chunk,
)

REQUEST: dict[str, Any] = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "hi"}],
    "temperature": 0.2,
}


def client_for(server: ScriptedServer, use_async: bool) -> Any:
    kind = openai.AsyncOpenAI if use_async else openai.OpenAI
    return kind(base_url=server.base_url, api_key="sk-test", max_retries=0)


async def create(client: Any, use_async: bool, **request: Any) -> Any:
    if use_async:
        return await client.chat.completions.create(**request)
    return client.chat.completions.create(**request)


async def read_all(stream: Any, use_async: bool) -> list[Any]:
    if use_async:
        return [item async for item in stream]
    return list(stream)


async def test_the_caller_gets_the_sdk_chunks_unchanged(use_async: bool) -> None:
    events = (*text_chunks("Hel", "lo"), usage_chunk(9, 2))
    with ScriptedServer(sse(*events), sse(*events)) as server:
        plain = client_for(server, use_async)
        expected = await read_all(await create(plain, use_async, **REQUEST, stream=True), use_async)
        wrapped = wrap_openai(client_for(server, use_async))
        stream = await create(wrapped, use_async, **REQUEST, stream=True)
        got = await read_all(stream, use_async)
    assert all(type(c) is ChatCompletionChunk for c in got)
    assert [c.model_dump() for c in got] == [c.model_dump() for c in expected]
    assert [c.choices[0].delta.content for c in got[:3]] == ["", "Hel", "lo"]
    assert server.requests[0] == server.requests[1] == {**REQUEST, "stream": True}


async def test_outside_a_graph_nothing_else_changes(use_async: bool) -> None:
    with ScriptedServer(Reply(body=completion("Hello"))) as server:
        client = client_for(server, use_async)
        wrapped = wrap_openai(client)
        result = await create(wrapped, use_async, **REQUEST)
        assert type(result) is ChatCompletion
        assert result.choices[0].message.content == "Hello"
        # Everything but chat.completions.create is the client's own.
        assert wrapped.base_url == client.base_url
        assert wrapped.models is client.models
        assert wrapped.chat.completions.with_raw_response is not None
        assert repr(wrapped).startswith("wrap_openai(<openai.")
        assert wrap_openai(wrapped) is wrapped


class State(TypedDict):
    topic: str
    joke: str


def graph_with(wrapped: Any, use_async: bool, *, stream: bool = True) -> Any:
    request = {**REQUEST, "messages": [{"role": "user", "content": "joke about cats"}]}
    if use_async:

        async def call_model(state: State) -> dict[str, Any]:
            response = await wrapped.chat.completions.create(**request, stream=stream)
            if not stream:
                return {"joke": response.choices[0].message.content}
            text = ""
            async for raw in response:
                if raw.choices and raw.choices[0].delta.content:
                    text += raw.choices[0].delta.content
            return {"joke": text}
    else:

        def call_model(state: State) -> dict[str, Any]:
            response = wrapped.chat.completions.create(**request, stream=stream)
            if not stream:
                return {"joke": response.choices[0].message.content}
            text = ""
            for raw in response:
                if raw.choices and raw.choices[0].delta.content:
                    text += raw.choices[0].delta.content
            return {"joke": text}

    return StateGraph(State).add_node(call_model).add_edge(START, "call_model").compile()


METADATA = {
    "ls_integration": "langchain_chat_model",
    "langgraph_step": 1,
    "langgraph_node": "call_model",
    "langgraph_triggers": ("branch:to:call_model",),
    "langgraph_path": ("__pregel_pull", "call_model"),
    "langgraph_checkpoint_ns": "call_model:<id>",
    "checkpoint_ns": "call_model:<id>",
    "ls_provider": "openai",
    "ls_model_name": "gpt-4o-mini",
    "ls_model_type": "chat",
    "ls_temperature": 0.2,
    "tags": ["joke"],
}


async def test_messages_mode_sees_each_delta(use_async: bool) -> None:
    with ScriptedServer(sse(*text_chunks("Why", " cats?"), usage_chunk(9, 2))) as server:
        wrapped = wrap_openai(client_for(server, use_async), tags=["joke"])
        items = await run_graph(
            graph_with(wrapped, use_async),
            {"topic": "cats"},
            use_async,
            stream_mode=["messages", "values"],
        )
    messages = [item for mode, item in items if mode == "messages"]
    assert [(type(m), m.content) for m, _ in messages] == [
        (AIMessageChunk, ""),
        (AIMessageChunk, "Why"),
        (AIMessageChunk, " cats?"),
        (AIMessageChunk, ""),
        (AIMessageChunk, ""),
    ]
    assert scrub(messages[1][1]) == METADATA
    merged = merge_chunks([m for m, _ in messages])
    assert merged.response_metadata["finish_reason"] == "stop"
    assert merged.usage_metadata is not None and merged.usage_metadata["total_tokens"] == 11
    assert items[-1] == ("values", {"topic": "cats", "joke": "Why cats?"})


async def test_a_whole_answer_is_one_chunk(use_async: bool) -> None:
    with ScriptedServer(Reply(body=completion("Why cats?"))) as server:
        wrapped = wrap_openai(client_for(server, use_async), tags=["joke"])
        items = await run_graph(
            graph_with(wrapped, use_async, stream=False),
            {"topic": "cats"},
            use_async,
            stream_mode="messages",
        )
    assert [(m.content, m.usage_metadata) for m, _ in items] == [
        ("Why cats?", {"input_tokens": 5, "output_tokens": 2, "total_tokens": 7})
    ]
    assert items[0][0].response_metadata == {
        "finish_reason": "stop",
        "model_name": "gpt-4o-mini",
        "system_fingerprint": "fp_rillet",
    }
    assert scrub(items[0][1]) == METADATA


async def test_tokens_reach_the_consumer_while_the_answer_streams(use_async: bool) -> None:
    gate = Gate()
    first = chunk({"role": "assistant", "content": "Why"})
    with ScriptedServer(sse(first, gate, *text_chunks(" cats?")[1:])) as server:
        graph = graph_with(wrap_openai(client_for(server, use_async)), use_async)
        seen: list[str] = []
        if use_async:
            async for message, _ in graph.astream({"topic": "c"}, stream_mode="messages"):
                seen.append(message.content)
                gate.open()
        else:
            for message, _ in graph.stream({"topic": "c"}, stream_mode="messages"):
                seen.append(message.content)
                gate.open()
    assert seen == ["Why", " cats?", ""]


async def test_the_sdk_errors_reach_the_caller_unchanged(use_async: bool) -> None:
    with ScriptedServer(error(429, "Rate limit reached")) as server:
        wrapped = wrap_openai(client_for(server, use_async))
        with pytest.raises(openai.RateLimitError, match="Rate limit reached"):
            await create(wrapped, use_async, **REQUEST, stream=True)


async def test_leaving_early_closes_the_response(use_async: bool) -> None:
    with ScriptedServer(sse(*text_chunks("a", "b", "c"))) as server:
        wrapped = wrap_openai(client_for(server, use_async))
        stream = await create(wrapped, use_async, **REQUEST, stream=True)
        if use_async:
            async with stream:
                async for _ in stream:
                    break
        else:
            with stream:
                for _ in stream:
                    break
        assert stream.response.is_closed


def test_astream_events_see_a_chat_model_call() -> None:
    with ScriptedServer(sse(*text_chunks("Hi"))) as server:
        graph = graph_with(wrap_openai(client_for(server, False)), False)
        events = [
            (e["event"], e["name"])
            for e in graph.stream_events({"topic": "c"}, version="v2")
            if e["event"].startswith("on_chat_model")
        ]
    assert events == [
        ("on_chat_model_start", "ChatOpenAI"),
        ("on_chat_model_stream", "ChatOpenAI"),
        ("on_chat_model_stream", "ChatOpenAI"),
        ("on_chat_model_stream", "ChatOpenAI"),
        ("on_chat_model_end", "ChatOpenAI"),
    ]


async def test_a_whole_answer_with_two_choices_is_read_from_index_0(use_async: bool) -> None:
    body = completion("first")
    second = {**body["choices"][0], "index": 1, "message": {"role": "assistant", "content": "2nd"}}
    body["choices"] = [second, body["choices"][0]]  # in the order a server may send them
    with ScriptedServer(Reply(body=body)) as server:
        wrapped = wrap_openai(client_for(server, use_async))
        items = await run_graph(
            graph_with(wrapped, use_async, stream=False),
            {"topic": "cats"},
            use_async,
            stream_mode="messages",
        )
    assert [m.content for m, _ in items] == ["first"]
