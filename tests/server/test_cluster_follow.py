"""``ClusterRuns.follow`` (an API process following a run that a worker executes) on a
real PostgreSQL and Redis, driven step by step as a worker writes: no timing guesses,
the worker's writes are made by the test in the order ``RunManager._finish`` makes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from rillet.server._cluster import ClusterRuns, Worker
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


async def test_a_renewal_keeps_a_run_that_recorded_its_end_and_drops_one_taken_over(
        parts: tuple[PostgresStorage, RedisBus]) -> None:
    """A worker's run records its status, then logs ``end``; a lease renewal in between
    must not abandon it (that cancelled the ``end``: 1 to 4 streams of 1,000 without it
    in the load test). A run another worker has taken over is abandoned."""
    storage, bus = parts
    worker = Worker(storage, bus, {}, worker_id="w1")
    for run_id, status, owner in (("ending", "success", "w1"), ("taken", "running", "w2"),
                                  ("going", "running", "w1")):
        await storage.create_thread({"thread_id": f"t-{run_id}", "created_at": AT,
                                     "updated_at": AT, "metadata": {}, "status": "busy",
                                     "config": {}, "values": None})
        await storage.put_run({"run_id": run_id, "thread_id": f"t-{run_id}",
                               "assistant_id": "a", "created_at": AT, "updated_at": AT,
                               "status": status, "metadata": {}, "kwargs": {"input": None},
                               "multitask_strategy": "reject"})
        async with storage.statement() as cur:
            await cur.execute("UPDATE rillet_server_runs SET worker = %s, lease_until = 0 "
                              "WHERE run_id = %s", (owner, run_id))
        worker._active[run_id] = f"t-{run_id}"
    abandoned: list[str] = []
    worker.runs.abandon = abandoned.append  # type: ignore[method-assign]
    await worker.renew()
    assert abandoned == ["taken"]
    assert sorted(worker._held_until) == ["ending", "going"]
    async with storage.statement() as cur:
        await cur.execute("SELECT run_id, lease_until > 0 FROM rillet_server_runs "
                          "ORDER BY run_id")
        assert await cur.fetchall() == [("ending", True), ("going", True), ("taken", False)]


async def test_a_wait_ends_at_the_end_signal_and_at_a_deletion_not_at_a_poll(
        parts: tuple[PostgresStorage, RedisBus]) -> None:
    """``ClusterRuns.wait`` with polls an hour apart: it ends when the run's ``end`` is
    logged, when the run is deleted while waited on (a rollback), and at once for a run
    deleted before the wait began; it does not end while the run goes on."""
    storage, bus = parts
    runs = ClusterRuns(storage, bus, {}, poll=3600.0)
    for run_id in ("ends", "deleted", "gone"):
        await storage.create_thread({"thread_id": f"t-{run_id}", "created_at": AT,
                                     "updated_at": AT, "metadata": {}, "status": "busy",
                                     "config": {}, "values": None})
        await storage.put_run({"run_id": run_id, "thread_id": f"t-{run_id}",
                               "assistant_id": "a", "created_at": AT, "updated_at": AT,
                               "status": "running", "metadata": {},
                               "kwargs": {"input": None}, "multitask_strategy": "reject"})
    await storage.append_events("ends", [("metadata", b"{}")])
    await storage.delete_run("gone")
    await asyncio.wait_for(runs.wait("gone"), 10)  # deleted before: read the record

    loop = asyncio.get_running_loop()
    ends, deleted = loop.create_task(runs.wait("ends")), loop.create_task(runs.wait("deleted"))
    await storage.append_events("ends", [("values", b"{}")])  # a wake, not the end
    # both waiters have read the log and the record and wait for a signal: the futures
    while "ends" not in bus._enders or "deleted" not in bus._enders:
        await asyncio.sleep(0)
    assert not ends.done() and not deleted.done()
    await storage.append_events("ends", [("end", b"null")])
    await asyncio.wait_for(ends, 10)
    assert not deleted.done()
    await storage.delete_run("deleted")
    await asyncio.wait_for(deleted, 10)
