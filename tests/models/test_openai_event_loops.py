"""OpenAIChatModel's async client belongs to an event loop: one model works across loops
(``asyncio.run`` twice, sync ``stream()`` runs with async nodes), and a client left
behind by a closed loop goes quietly."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from rillet.errors import UsageError
from rillet.graph import START, MessagesState, StateGraph
from rillet.models import OpenAIChatModel
from tests.models.servers import ScriptedServer, sse, text_chunks


def answers(count: int) -> ScriptedServer:
    return ScriptedServer(*(sse(*text_chunks("Hello", " there")) for _ in range(count)))


def test_asyncio_run_twice() -> None:
    with answers(3) as server:
        model = OpenAIChatModel(base_url=server.base_url, max_retries=0)
        contents = [asyncio.run(model.ainvoke("hi")).content for _ in range(3)]
    assert contents == ["Hello there"] * 3


def test_sync_stream_runs_of_an_async_node() -> None:
    with answers(3) as server:
        model = OpenAIChatModel(base_url=server.base_url, max_retries=0)

        async def agent(state: MessagesState) -> dict[str, Any]:
            return {"messages": [await model.ainvoke(state["messages"])]}

        graph = StateGraph(MessagesState).add_node(agent).add_edge(START, "agent").compile()
        inputs = {"messages": [("user", "hi")]}
        runs = [[m.content for m, _ in graph.stream(inputs, stream_mode="messages")] for _ in "abc"]
    assert runs == [["", "Hello", " there", ""]] * 3


async def test_one_client_per_loop() -> None:
    model = OpenAIChatModel(base_url="http://127.0.0.1:9/v1")
    here = model.async_client
    elsewhere = await asyncio.to_thread(asyncio.run, _client_of(model))
    assert model.async_client is here
    assert elsewhere is not here


def test_a_given_async_client_is_used_in_every_loop() -> None:
    import openai

    client = openai.AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:9/v1")
    model = OpenAIChatModel(async_client=client)
    assert [asyncio.run(_client_of(model)) for _ in range(2)] == [client, client]


def test_async_client_outside_a_loop() -> None:
    with pytest.raises(UsageError) as info:
        OpenAIChatModel(base_url="http://127.0.0.1:9/v1").async_client  # noqa: B018
    assert str(info.value) == (
        "OpenAIChatModel.async_client belongs to an event loop: read it inside async "
        "code (each running loop gets its own client)"
    )


def test_a_client_collected_after_its_loop_closed_schedules_nothing() -> None:
    # The SDK's own HTTP client, collected while a loop runs, schedules its closing
    # there; the connections belong to the closed loop, so the task fails and
    # asyncio logs "Task exception was never retrieved ... Event loop is closed".
    with answers(1) as server:
        model = OpenAIChatModel(base_url=server.base_url, max_retries=0)
        assert asyncio.run(model.ainvoke("hi")).content == "Hello there"

        async def collect() -> list[str]:
            nonlocal model
            del model
            gc.collect()
            others = asyncio.all_tasks() - {asyncio.current_task()}
            await asyncio.gather(*others, return_exceptions=True)
            return sorted(task.get_coro().__qualname__ for task in others)

        assert asyncio.run(collect()) == []


async def _client_of(model: OpenAIChatModel) -> Any:
    return model.async_client
