"""``ClusterRuns.follow`` (an API process following a run that a worker executes) on a
real PostgreSQL and Redis, driven step by step as a worker writes: no timing guesses,
the worker's writes are made by the test in the order ``RunManager._finish`` makes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from rillet.server._cluster import ClusterRuns
from rillet.server._redis import RedisBus
from rillet.server.storage.postgres import PostgresStorage
from tests._redis import fresh_prefix

pytestmark = pytest.mark.timeout(60)
AT = "2026-01-01T00:00:00Z"


@pytest.fixture
async def parts(postgres_fresh_dsn: str, redis_url: str,
                ) -> AsyncIterator[tuple[PostgresStorage, RedisBus]]:
    bus = RedisBus(redis_url, prefix=fresh_prefix())
    await bus.setup()
    storage = PostgresStorage(postgres_fresh_dsn, events=bus, timeout=10)
    await storage.setup()
    listener = asyncio.get_running_loop().create_task(bus.listen())
    await asyncio.wait_for(bus.connected.wait(), 10)
    yield storage, bus
    listener.cancel()
    await storage.close()
    await bus.close()


async def test_a_run_marked_ended_before_its_end_event_still_streams_its_end(
        parts: tuple[PostgresStorage, RedisBus]) -> None:
    """The worker records the run's status, then appends ``end`` (``_finish``); a
    follower that polls the record in between (a busy worker: more than one poll) must
    not stop short of ``end``. Seen in the load test: 1 stream of 1,000 without ``end``."""
    storage, bus = parts
    await storage.create_thread({"thread_id": "t1", "created_at": AT, "updated_at": AT,
                                 "metadata": {}, "status": "busy", "config": {},
                                 "values": None})
    await storage.put_run({"run_id": "r1", "thread_id": "t1", "assistant_id": "a",
                           "created_at": AT, "updated_at": AT, "status": "running",
                           "metadata": {}, "kwargs": {"input": None},
                           "multitask_strategy": "reject"})
    await storage.append_events("r1", [("metadata", b'{"run_id":"r1"}'), ("values", b"{}")])
    runs = ClusterRuns(storage, bus, {}, poll=0.05)
    got: list[str] = []
    polled = asyncio.Event()
    real_get_run = storage.get_run

    async def get_run(run_id: str) -> dict[str, object] | None:
        record = await real_get_run(run_id)
        if record is not None and record["status"] == "success":
            polled.set()  # the follower has seen the run ended
        return record

    storage.get_run = get_run  # type: ignore[method-assign]

    async def follow() -> None:
        async for batch in runs.follow("r1"):
            got.extend(event.event for event in batch)

    task = asyncio.get_running_loop().create_task(follow())
    await storage.update_run("r1", status="success")
    await asyncio.wait_for(polled.wait(), 10)
    await asyncio.sleep(0.2)  # several more polls: the follower must still be waiting
    await storage.append_events("r1", [("end", b"null")])
    await asyncio.wait_for(task, 10)
    assert got == ["metadata", "values", "end"]
