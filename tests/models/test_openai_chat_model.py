"""OpenAIChatModel against scripted OpenAI-compatible servers: requests, deltas, tool
calls, usage, and streaming inside a graph."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from rillet.graph import START, StateGraph
from rillet.messages import AIMessage, AIMessageChunk, merge_chunks, tool_call_chunk
from rillet.models import OpenAIChatModel
from tests.conftest import scrub
from tests.models.servers import (
    FINGERPRINT,
    Gate,
    ScriptedServer,
    chunk,
    run_graph,
    sse,
    stream_chunks,
    text_chunks,
    tool_delta,
    usage_chunk,
)

FINISH_STOP = {
    "finish_reason": "stop",
    "model_name": "gpt-4o-mini",
    "system_fingerprint": FINGERPRINT,
}
USAGE = {
    "input_tokens": 9,
    "output_tokens": 2,
    "total_tokens": 11,
    "input_token_details": {"audio": 0, "cache_read": 0},
    "output_token_details": {"audio": 0, "reasoning": 0},
}


def get_weather(city: str) -> str:
    """Get the weather in a city."""
    return f"sunny in {city}"


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def fields(chunk: AIMessageChunk) -> tuple[Any, ...]:
    return (chunk.content, chunk.response_metadata, chunk.usage_metadata, chunk.tool_call_chunks)


async def test_text_deltas_finish_and_usage(use_async: bool) -> None:
    with ScriptedServer(sse(*text_chunks("Hel", "lo"), usage_chunk(9, 2))) as server:
        model = OpenAIChatModel(base_url=server.base_url)
        chunks, error = await stream_chunks(model, use_async, "hi")
    assert error is None
    assert [fields(c) for c in chunks] == [
        ("", {}, None, []),
        ("Hel", {}, None, []),
        ("lo", {}, None, []),
        ("", FINISH_STOP, None, []),
        ("", {}, USAGE, []),
    ]
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("run-")
    assert merge_chunks(chunks) == AIMessageChunk(
        "Hello", response_metadata=FINISH_STOP, usage_metadata=USAGE, id=chunks[0].id
    )
    assert server.requests == [
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    ]


async def test_invoke_merges_the_stream(use_async: bool) -> None:
    with ScriptedServer(sse(*text_chunks("Hel", "lo"), usage_chunk(9, 2))) as server:
        model = OpenAIChatModel(base_url=server.base_url)
        message = await model.ainvoke("hi") if use_async else model.invoke("hi")
    assert message == AIMessage(
        "Hello", response_metadata=FINISH_STOP, usage_metadata=USAGE, id=message.id
    )


async def test_settings_and_call_kwargs_reach_the_request(use_async: bool) -> None:
    with ScriptedServer(sse(*text_chunks("ok"))) as server:
        model = OpenAIChatModel(
            "my-model",
            base_url=server.base_url,
            temperature=0.0,
            max_tokens=16,
            stream_usage=False,
            seed=7,
        )
        _, error = await stream_chunks(
            model, use_async, [("system", "Be brief."), ("user", "hi")], stop=["\n"]
        )
    assert error is None
    assert server.requests == [
        {
            "seed": 7,
            "model": "my-model",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "hi"},
            ],
            "temperature": 0.0,
            "max_tokens": 16,
            "stop": ["\n"],
            "stream": True,
        }
    ]


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", "auto"),
        ("required", "required"),
        ("none", "none"),
        ("any", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_bound_tools_and_tool_choice(choice: str, sent: object) -> None:
    with ScriptedServer(sse(*text_chunks("ok"))) as server:
        model = OpenAIChatModel(base_url=server.base_url, stream_usage=False)
        model.bind_tools([get_weather], tool_choice=choice).invoke("weather?")
    assert server.requests[0]["tools"] == [WEATHER_TOOL]
    assert server.requests[0]["tool_choice"] == sent


def test_tool_calls_in_history_are_sent_in_openai_shape() -> None:
    history = [
        {"role": "user", "content": "weather?"},
        AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}]),
        {"role": "tool", "content": "sunny", "tool_call_id": "c1"},
    ]
    with ScriptedServer(sse(*text_chunks("Sunny."))) as server:
        OpenAIChatModel(base_url=server.base_url, stream_usage=False).invoke(history)
    assert server.requests[0]["messages"] == [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "content": "sunny", "tool_call_id": "c1"},
    ]


PARALLEL_TOOL_CALLS = (
    chunk({"role": "assistant", "content": None, "refusal": None}),
    tool_delta(0, "", id="call_1", name="get_weather"),
    tool_delta(0, '{"ci'),
    tool_delta(0, 'ty": "Par'),
    tool_delta(0, 'is"}'),
    tool_delta(1, "", id="call_2", name="get_weather"),
    tool_delta(1, '{"city": '),
    tool_delta(1, '"Rome"}'),
    chunk({}, "tool_calls"),
    usage_chunk(9, 2),
)


async def test_parallel_tool_call_deltas(use_async: bool) -> None:
    with ScriptedServer(sse(*PARALLEL_TOOL_CALLS)) as server:
        model = OpenAIChatModel(base_url=server.base_url).bind_tools([get_weather])
        chunks, error = await stream_chunks(model, use_async, "weather in Paris and Rome?")
    assert error is None
    assert [c.tool_call_chunks for c in chunks] == [
        [],
        [tool_call_chunk(name="get_weather", args="", id="call_1", index=0)],
        [tool_call_chunk(args='{"ci', index=0)],
        [tool_call_chunk(args='ty": "Par', index=0)],
        [tool_call_chunk(args='is"}', index=0)],
        [tool_call_chunk(name="get_weather", args="", id="call_2", index=1)],
        [tool_call_chunk(args='{"city": ', index=1)],
        [tool_call_chunk(args='"Rome"}', index=1)],
        [],
        [],
    ]
    # Mid-stream, the partial JSON already parses.
    assert (chunks[0] + chunks[1:4]).tool_calls == [
        {"name": "get_weather", "args": {"city": "Par"}, "id": "call_1", "type": "tool_call"}
    ]
    merged = merge_chunks(chunks)
    assert merged.tool_calls == [
        {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1", "type": "tool_call"},
        {"name": "get_weather", "args": {"city": "Rome"}, "id": "call_2", "type": "tool_call"},
    ]
    assert merged.response_metadata["finish_reason"] == "tool_calls"
    assert merged.usage_metadata == USAGE


def test_repeated_tool_call_ids_and_names_are_sent_once() -> None:
    # llama-cpp-python repeats the id and the name in every delta of a tool call.
    def delta(args: str) -> dict[str, Any]:
        return tool_delta(0, args, id="call_x", name="get_weather")

    with ScriptedServer(sse(delta('{"city"'), delta(': "Oslo"}'), chunk({}, "tool_calls"))) as s:
        chunks = list(OpenAIChatModel(base_url=s.base_url, stream_usage=False).stream("hi"))
    assert [c.tool_call_chunks for c in chunks[:2]] == [
        [tool_call_chunk(name="get_weather", args='{"city"', id="call_x", index=0)],
        [tool_call_chunk(args=': "Oslo"}', index=0)],
    ]
    assert AIMessage("", tool_calls=merge_chunks(chunks).tool_calls).tool_calls == [
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_x", "type": "tool_call"}
    ]


def test_refusal_goes_to_additional_kwargs() -> None:
    events = (chunk({"role": "assistant", "refusal": "I can't."}), chunk({}, "stop"))
    with ScriptedServer(sse(*events)) as server:
        message = OpenAIChatModel(base_url=server.base_url, stream_usage=False).invoke("hi")
    assert message.additional_kwargs == {"refusal": "I can't."}


class JokeState(TypedDict):
    topic: str
    joke: str


def joke_graph(model: OpenAIChatModel, use_async: bool) -> Any:
    if use_async:

        async def call_model(state: JokeState) -> dict[str, Any]:
            reply = await model.ainvoke([{"role": "user", "content": state["topic"]}])
            return {"joke": reply.content}
    else:

        def call_model(state: JokeState) -> dict[str, Any]:
            reply = model.invoke([{"role": "user", "content": state["topic"]}])
            return {"joke": reply.content}

    return StateGraph(JokeState).add_node(call_model).add_edge(START, "call_model").compile()


async def test_messages_mode_in_a_graph(use_async: bool) -> None:
    with ScriptedServer(sse(*text_chunks("Why", " cats?"), usage_chunk(9, 2))) as server:
        model = OpenAIChatModel(base_url=server.base_url, temperature=0.5, tags=["joke"])
        items = await run_graph(
            joke_graph(model, use_async), {"topic": "cats"}, use_async, stream_mode="messages"
        )
    assert [c.content for c, _ in items] == ["", "Why", " cats?", "", ""]
    assert all(isinstance(c, AIMessageChunk) for c, _ in items)
    assert merge_chunks([c for c, _ in items]).usage_metadata == USAGE
    assert scrub(items[1][1]) == {
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
        "ls_temperature": 0.5,
        "tags": ["joke"],
    }


async def test_tokens_reach_the_consumer_while_the_answer_streams(use_async: bool) -> None:
    gate = Gate()  # the server sends the rest only once the consumer has the first token
    with ScriptedServer(sse(role_and("Why"), gate, *text_chunks(" cats?")[1:])) as server:
        model = OpenAIChatModel(base_url=server.base_url)
        graph = joke_graph(model, use_async)
        seen: list[str] = []
        if use_async:
            async for message, _ in graph.astream({"topic": "cats"}, stream_mode="messages"):
                seen.append(message.content)
                gate.open()
        else:
            for message, _ in graph.stream({"topic": "cats"}, stream_mode="messages"):
                seen.append(message.content)
                gate.open()
    assert gate.event.is_set()
    assert seen == ["Why", " cats?", ""]


def role_and(content: str) -> dict[str, Any]:
    return chunk({"role": "assistant", "content": content})


def two_choices(first: tuple[int, str], second: tuple[int, str], finish: str | None) -> Any:
    """A chunk of an ``n=2`` request, its choices in the order given."""
    event = chunk({})
    event["choices"] = [
        {"index": index, "delta": {"content": text}, "logprobs": None, "finish_reason": finish}
        for index, text in (first, second)
    ]
    return event


async def test_only_the_choice_with_index_0_is_read(use_async: bool) -> None:
    only_second = chunk({"content": "b"})
    only_second["choices"][0]["index"] = 1
    events = [
        two_choices((1, "B"), (0, "A"), None),
        only_second,
        two_choices((0, "a"), (1, ""), "stop"),
    ]
    with ScriptedServer(sse(*events)) as server:
        chunks, error = await stream_chunks(OpenAIChatModel(base_url=server.base_url), use_async)
    assert error is None
    assert [fields(c) for c in chunks] == [
        ("A", {}, None, []),
        ("", {}, None, []),
        ("a", FINISH_STOP, None, []),
    ]
