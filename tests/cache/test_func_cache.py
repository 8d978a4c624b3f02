"""Caching in the functional API: ``@task(cache_policy=...)`` and
``@entrypoint(cache=..., cache_policy=...)``.

Expected outputs are what LangGraph 1.2.22 printed for the same programs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rillet.cache.memory import InMemoryCache
from rillet.checkpoint.memory import InMemorySaver
from rillet.func import entrypoint, task
from rillet.types import CachePolicy


def test_task_calls_are_cached_by_their_arguments() -> None:
    calls: list[Any] = []

    @task(cache_policy=CachePolicy())
    def double(x: int, y: int = 1) -> int:
        calls.append(("double", x, y))
        return x * 2 * y

    @task
    def plain(x: int) -> int:
        calls.append(("plain", x))
        return x + 1

    @entrypoint(cache=InMemoryCache())
    def flow(n: int) -> list[int]:
        a = double(n).result()
        b = double(n, y=3).result()
        c = double(n).result()  # the first call's entry, within the same run
        return [a, b, c, plain(n).result()]

    assert flow.invoke(2) == [4, 12, 4, 3]
    assert calls == [("double", 2, 1), ("double", 2, 3), ("plain", 2)]
    calls.clear()
    assert flow.invoke(2) == [4, 12, 4, 3]
    assert list(flow.stream(2, stream_mode="updates")) == [
        {"double": 4, "__metadata__": {"cached": True}},
        {"double": 12, "__metadata__": {"cached": True}},
        {"double": 4, "__metadata__": {"cached": True}},
        {"plain": 3},
        {"flow": [4, 12, 4, 3]},
    ]
    assert calls == [("plain", 2), ("plain", 2)]
    # Cached calls have a start and no result in ``tasks`` mode.
    assert [(t["name"], "result" in t) for t in flow.stream(2, stream_mode="tasks")] == [
        ("flow", False), ("double", False), ("double", False), ("double", False),
        ("plain", False), ("plain", True), ("flow", True),
    ]
    # As LangGraph: clear_cache() clears the entrypoint's node entries, not its tasks'
    # (a task's namespace is its function; ``cache.clear()`` clears everything).
    flow.clear_cache()
    assert list(flow.cache._entries) == [
        ("__pregel_ns_writes", f"{__name__}.test_task_calls_are_cached_by_their_arguments"
         ".<locals>.double"),
    ]


def test_key_func_takes_the_call_arguments() -> None:
    calls: list[Any] = []

    @task(cache_policy=CachePolicy(key_func=lambda x, y=0: str(x)))
    def add(x: int, y: int = 0) -> int:
        calls.append((x, y))
        return x + y

    @entrypoint(cache=InMemoryCache())
    def flow(n: int) -> list[int]:
        return [add(n, y=1).result(), add(n, y=2).result()]

    assert flow.invoke(1) == [2, 2]
    assert calls == [(1, 1)]


def test_the_entrypoint_itself_can_be_cached() -> None:
    calls: list[int] = []

    @entrypoint(cache=InMemoryCache(), cache_policy=CachePolicy())
    def flow(n: int) -> int:
        calls.append(n)
        return n + 1

    assert flow.invoke(1) == flow.invoke(1) == 2
    assert list(flow.stream(1, stream_mode="updates")) == [
        {"flow": 2, "__metadata__": {"cached": True}},
    ]
    assert calls == [1]
    flow.clear_cache()
    assert flow.invoke(1) == 2
    assert calls == [1, 1]


def test_without_a_cache_task_policies_are_ignored() -> None:
    calls: list[int] = []

    @task(cache_policy=CachePolicy())
    def double(x: int) -> int:
        calls.append(x)
        return x * 2

    @entrypoint()
    def flow(n: int) -> int:
        return double(n).result()

    flow.invoke(5)
    flow.invoke(5)
    assert calls == [5, 5]


def test_async_tasks_and_a_checkpointer() -> None:
    calls: list[int] = []

    @task(cache_policy=CachePolicy())
    async def times_ten(x: int) -> int:
        calls.append(x)
        return x * 10

    @entrypoint(cache=InMemoryCache(), checkpointer=InMemorySaver())
    async def flow(n: int) -> int:
        return await times_ten(n)

    async def main() -> list[Any]:
        one = await flow.ainvoke(1, {"configurable": {"thread_id": "a"}})
        two = await flow.ainvoke(1, {"configurable": {"thread_id": "b"}})
        items = [c async for c in flow.astream(
            1, {"configurable": {"thread_id": "c"}}, stream_mode="updates")]
        return [one, two, items]

    assert asyncio.run(main()) == [
        10, 10, [{"times_ten": 10, "__metadata__": {"cached": True}}, {"flow": 10}],
    ]
    assert calls == [1]
    assert flow.get_state({"configurable": {"thread_id": "b"}}).values == 10
