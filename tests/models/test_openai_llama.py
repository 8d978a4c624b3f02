"""OpenAIChatModel and wrap_openai against a real OpenAI-compatible server:
llama-cpp-python's, running SmolLM2-135M (the ``llama`` fixture, tests/models/conftest.py).

Greedy decoding (``temperature=0``), a fixed seed and few tokens keep it fast and
deterministic; the assertions compare the streams with each other, not with the text.
"""

from __future__ import annotations

import json
import operator
from typing import Annotated, Any, TypedDict

import openai

from rillet.config import get_stream_writer
from rillet.errors import ModelError
from rillet.graph import START, StateGraph
from rillet.messages import AIMessageChunk, merge_chunks
from rillet.models import OpenAIChatModel, wrap_openai
from tests.conftest import scrub
from tests.models.servers import LlamaServer, run_graph, stream_chunks

MODEL = "smollm2"
JOKE = "Tell me a joke about cats."
SAMPLING: dict[str, Any] = {"temperature": 0, "seed": 42, "max_tokens": 16}


def chat_model(llama: LlamaServer, **kwargs: Any) -> OpenAIChatModel:
    options = {"api_key": llama.api_key, "temperature": 0.0, "max_tokens": 16, "seed": 42}
    return OpenAIChatModel(MODEL, base_url=llama.base_url, **{**options, **kwargs})


async def test_stream_merges_into_what_invoke_returns(llama: LlamaServer, use_async: bool) -> None:
    model = chat_model(llama)
    chunks, error = await stream_chunks(model, use_async, JOKE)
    assert error is None
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert len([c for c in chunks if c.content]) > 3
    merged = merge_chunks(chunks)
    message = await model.ainvoke(JOKE) if use_async else model.invoke(JOKE)
    assert merged.content == message.content != ""
    assert merged.response_metadata == message.response_metadata
    assert merged.response_metadata["model_name"] == MODEL
    # llama-cpp-python ignores stream_options={"include_usage": True}: no usage chunk.
    assert merged.usage_metadata is None


class JokeState(TypedDict):
    topic: str
    joke: str


async def test_messages_mode_in_a_graph(llama: LlamaServer, use_async: bool) -> None:
    model = chat_model(llama, tags=["joke"])
    if use_async:

        async def call_model(state: JokeState) -> dict[str, Any]:
            return {"joke": (await model.ainvoke(f"Tell me a joke about {state['topic']}.")).text}
    else:

        def call_model(state: JokeState) -> dict[str, Any]:
            return {"joke": model.invoke(f"Tell me a joke about {state['topic']}.").text}

    graph = StateGraph(JokeState).add_node(call_model).add_edge(START, "call_model").compile()
    items = await run_graph(graph, {"topic": "cats"}, use_async, stream_mode=["messages", "values"])
    tokens = [item for mode, item in items if mode == "messages"]
    assert len([c for c, _ in tokens if c.content]) > 3
    assert all(isinstance(c, AIMessageChunk) for c, _ in tokens)
    assert len({c.id for c, _ in tokens}) == 1
    expected = {
        "ls_integration": "langchain_chat_model",
        "langgraph_step": 1,
        "langgraph_node": "call_model",
        "langgraph_triggers": ("branch:to:call_model",),
        "langgraph_path": ("__pregel_pull", "call_model"),
        "langgraph_checkpoint_ns": "call_model:<id>",
        "checkpoint_ns": "call_model:<id>",
        "ls_provider": "openai",
        "ls_model_name": MODEL,
        "ls_model_type": "chat",
        "ls_temperature": 0.0,
        "tags": ["joke"],
    }
    assert all(scrub(meta) == expected for _, meta in tokens)
    final = merge_chunks([c for c, _ in tokens])
    assert items[-1] == ("values", {"topic": "cats", "joke": final.content})
    assert final.response_metadata["model_name"] == MODEL
    assert final.usage_metadata is None  # not reported by this server when streaming


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"sunny in {city}"


async def test_forced_tool_call(llama: LlamaServer, use_async: bool) -> None:
    model = chat_model(llama, max_tokens=48).bind_tools([get_weather], tool_choice="get_weather")
    prompt = "What is the weather in Paris?"
    message = await model.ainvoke(prompt) if use_async else model.invoke(prompt)
    # The server repeats the id and name in every delta; they must not pile up.
    [call] = message.tool_calls
    assert (call["name"], call["args"], call["type"]) == (
        "get_weather",
        {"city": "Paris"},
        "tool_call",
    )
    assert call["id"] is not None and call["id"].startswith("call__0_get_weather_cmpl-")
    assert message.response_metadata["finish_reason"] == "tool_calls"


async def test_wrong_api_key(llama: LlamaServer, use_async: bool) -> None:
    model = chat_model(llama, api_key="wrong", max_retries=0)
    chunks, error = await stream_chunks(model, use_async, JOKE)
    assert chunks == []
    assert isinstance(error, ModelError)
    assert (error.status_code, error.retryable) == (401, False)
    assert str(error) == (
        f"HTTP 401 from POST {llama.base_url}/chat/completions: Invalid API key "
        "(check the api_key, or the OPENAI_API_KEY environment variable)"
    )


# ---------------------------------------------------------------------------
# Seed 001, "Example without LangChain", with rillet imports and a wrapped client.


class SeedState(TypedDict):
    topic: str
    joke: str
    poem: str


def seed_001_graph(openai_client: Any) -> Any:
    model_name = MODEL

    async def stream_tokens(model_name: str, messages: list[dict]):
        response = await openai_client.chat.completions.create(
            messages=messages, model=model_name, stream=True, **SAMPLING
        )

        role = None
        async for chunk in response:
            delta = chunk.choices[0].delta

            if delta.role is not None:
                role = delta.role

            if delta.content:
                yield {"role": role, "content": delta.content}

    async def call_model(state, config, writer):
        topic = state["topic"]
        joke = ""
        poem = ""

        print("Writing joke...")
        async for msg_chunk in stream_tokens(
            model_name, [{"role": "user", "content": f"Write a joke about {topic}"}]
        ):
            joke += msg_chunk["content"]
            metadata = {**config["metadata"], "tags": ["joke"]}
            chunk_to_stream = (msg_chunk, metadata)
            writer(chunk_to_stream)

        print("\n\nWriting poem...")
        async for msg_chunk in stream_tokens(
            model_name, [{"role": "user", "content": f"Write a short poem about {topic}"}]
        ):
            poem += msg_chunk["content"]
            metadata = {**config["metadata"], "tags": ["poem"]}
            chunk_to_stream = (msg_chunk, metadata)
            writer(chunk_to_stream)

        return {"joke": joke, "poem": poem}

    return StateGraph(SeedState).add_node(call_model).add_edge(START, "call_model").compile()


async def test_seed_001_example_without_langchain(llama: LlamaServer) -> None:
    client = openai.AsyncOpenAI(base_url=llama.base_url, api_key=llama.api_key)
    graph = seed_001_graph(wrap_openai(client))
    items = [
        item
        async for item in graph.astream(
            {"topic": "cats"}, stream_mode=["custom", "messages", "values"]
        )
    ]
    custom = [item for mode, item in items if mode == "custom"]
    messages = [item for mode, item in items if mode == "messages"]
    final = items[-1][1]
    # stream_mode="custom": the node's own (chunk, metadata) pairs, as in the seed.
    assert "".join(m["content"] for m, meta in custom if "joke" in meta["tags"]) == final["joke"]
    assert "".join(m["content"] for m, meta in custom if "poem" in meta["tags"]) == final["poem"]
    assert {m["role"] for m, _ in custom} == {"assistant"}
    assert scrub(custom[-1][1]) == {
        "ls_integration": "langgraph",
        "langgraph_step": 1,
        "langgraph_node": "call_model",
        "langgraph_triggers": ("branch:to:call_model",),
        "langgraph_path": ("__pregel_pull", "call_model"),
        "langgraph_checkpoint_ns": "call_model:<id>",
        "tags": ["poem"],
    }
    # stream_mode="messages": the wrapped client's deltas, one model call per request.
    assert all(isinstance(chunk, AIMessageChunk) for chunk, _ in messages)
    assert len({chunk.id for chunk, _ in messages}) == 2
    assert "".join(chunk.text for chunk, _ in messages) == final["joke"] + final["poem"]
    keys = ("ls_provider", "ls_model_name", "ls_model_type", "ls_temperature", "langgraph_node")
    assert {tuple(meta[k] for k in keys) for _, meta in messages} == {
        ("openai", MODEL, "chat", 0, "call_model")
    }
    # Each token reached messages mode before the node's writer sent it on.
    first_custom = next(i for i, (mode, _) in enumerate(items) if mode == "custom")
    assert items[first_custom - 1][0] == "messages"


# ---------------------------------------------------------------------------
# Seed 002, streaming from inside a tool with a raw client, rillet imports.


def seed_002_graph(openai_client: Any) -> Any:
    model_name = MODEL

    async def stream_tokens(model_name: str, messages: list[dict]):
        response = await openai_client.chat.completions.create(
            messages=messages, model=model_name, stream=True, **SAMPLING
        )
        role = None
        async for chunk in response:
            delta = chunk.choices[0].delta

            if delta.role is not None:
                role = delta.role

            if delta.content:
                yield {"role": role, "content": delta.content}

    async def get_items(place: str) -> str:
        """Use this tool to list items one might find in a place you're asked about."""
        writer = get_stream_writer()
        response = ""
        async for msg_chunk in stream_tokens(
            model_name,
            [
                {
                    "role": "user",
                    "content": (
                        "Can you tell me what kind of items "
                        f"i might find in the following place: '{place}'. "
                        "List at least 3 such items separating them by a comma. "
                        "And include a brief description of each item."
                    ),
                }
            ],
        ):
            response += msg_chunk["content"]
            writer(msg_chunk)

        return response

    class State(TypedDict):
        messages: Annotated[list[dict], operator.add]

    async def call_tool(state: State):
        ai_message = state["messages"][-1]
        tool_call = ai_message["tool_calls"][-1]

        function_name = tool_call["function"]["name"]
        if function_name != "get_items":
            raise ValueError(f"Tool {function_name} not supported")

        function_arguments = tool_call["function"]["arguments"]
        arguments = json.loads(function_arguments)

        function_response = await get_items(**arguments)
        tool_message = {
            "tool_call_id": tool_call["id"],
            "role": "tool",
            "name": function_name,
            "content": function_response,
        }
        return {"messages": [tool_message]}

    return StateGraph(State).add_node(call_tool).add_edge(START, "call_tool").compile()


SEED_002_INPUTS = {
    "messages": [
        {
            "content": None,
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "1",
                    "function": {"arguments": '{"place":"bedroom"}', "name": "get_items"},
                    "type": "function",
                }
            ],
        }
    ]
}


async def test_seed_002_raw_client_inside_a_tool(llama: LlamaServer) -> None:
    client = openai.AsyncOpenAI(base_url=llama.base_url, api_key=llama.api_key)
    graph = seed_002_graph(wrap_openai(client))
    custom = [chunk async for chunk in graph.astream(SEED_002_INPUTS, stream_mode="custom")]
    assert len(custom) > 3 and {c["role"] for c in custom} == {"assistant"}

    modes = ["custom", "messages", "values"]
    items = [item async for item in graph.astream(SEED_002_INPUTS, stream_mode=modes)]
    [tool_message] = items[-1][1]["messages"][1:]
    assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "1"
    # Deterministic decoding: the second run streams what the first one did.
    assert [c for mode, c in items if mode == "custom"] == custom
    assert "".join(c["content"] for c in custom) == tool_message["content"]
    tokens = [item for mode, item in items if mode == "messages"]
    assert "".join(chunk.text for chunk, _ in tokens) == tool_message["content"]
    assert {meta["langgraph_node"] for _, meta in tokens} == {"call_tool"}


def test_sync_wrapped_client_in_a_sync_graph(llama: LlamaServer) -> None:
    client = wrap_openai(openai.OpenAI(base_url=llama.base_url, api_key=llama.api_key))

    def call_model(state: JokeState) -> dict[str, Any]:
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": JOKE}], stream=True, **SAMPLING
        )
        raw = list(stream)
        return {"joke": "".join(c.choices[0].delta.content or "" for c in raw)}

    graph = StateGraph(JokeState).add_node(call_model).add_edge(START, "call_model").compile()
    items = list(graph.stream({"topic": "cats"}, stream_mode=["messages", "values"]))
    tokens = [item[0] for mode, item in items if mode == "messages"]
    assert len([t for t in tokens if t.content]) > 3
    assert "".join(t.text for t in tokens) == items[-1][1]["joke"] != ""
