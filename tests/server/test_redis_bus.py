"""``RedisBus`` on a real Redis: the event log's numbering, exactly-once retried
appends, the attempt fence, retention, and the signals."""

from __future__ import annotations

import asyncio
import math

import pytest

from rillet.server._redis import RedisBus, StaleAttempt
from rillet.server.storage import Event
from tests._redis import fresh_prefix

pytestmark = pytest.mark.timeout(60)


async def _bus(url: str, **kw: object) -> RedisBus:
    bus = RedisBus(url, prefix=fresh_prefix(), **kw)  # type: ignore[arg-type]
    await bus.setup()
    return bus


def test_appends_are_numbered_by_redis_across_writers(redis_url: str) -> None:
    async def main() -> None:
        one, two = await _bus(redis_url), await _bus(redis_url)
        two.prefix = one.prefix  # two processes on the same keys
        assert await one.append("r", [("metadata", b"{}"), ("values", b"1")]) == 0
        assert await two.append("r", [("values", b"2")]) == 2  # a takeover: ids go on
        assert await one.append("r", [("end", b"null")]) == 3
        assert await two.read("r") == [Event(0, "metadata", b"{}"), Event(1, "values", b"1"),
                                       Event(2, "values", b"2"), Event(3, "end", b"null")]
        assert await one.read("r", after=1, limit=1) == [Event(2, "values", b"2")]
        assert await one.read("r", after=3) == []
        assert await one.read("unknown") == []
        await one.delete(["r"])
        assert await one.read("r") == []
        await one.close()
        await two.close()

    asyncio.run(main())


def test_a_retried_batch_is_logged_once_and_numbers_never_go_back(redis_url: str) -> None:
    async def main() -> None:
        bus = await _bus(redis_url)
        script = bus._script
        calls = []

        async def answer_lost(keys: list[str], args: list[object]) -> object:
            calls.append(args[0])
            result = await script(keys=keys, args=args)
            if len(calls) == 1:  # the script ran, its answer is lost with the connection
                raise ConnectionError("cut")
            return result

        bus._script = answer_lost
        assert await bus.append("r", [("a", b"1"), ("b", b"2")]) == 0
        assert calls[0] == calls[1]  # the same batch token, retried
        bus._script = script
        assert [e.seq for e in await bus.read("r")] == [0, 1]
        await bus.client.delete(bus._key("r"))  # Redis lost the log's tail
        assert await bus.append("r", [("c", b"3")]) == 2  # the writer's floor holds
        await bus.close()

    asyncio.run(main())


def test_an_older_attempt_is_refused_once_a_newer_one_wrote(redis_url: str) -> None:
    async def main() -> None:
        bus = await _bus(redis_url)
        assert await bus.append("r", [("metadata", b"1")], attempt=1) == 0
        assert await bus.append("r", [("metadata", b"2")], attempt=2) == 1
        with pytest.raises(StaleAttempt, match="STALE attempt 1 < 2"):
            await bus.append("r", [("zombie", b"1")], attempt=1)
        assert await bus.append("r", [("end", b"null")], attempt=2) == 2
        assert [e.event for e in await bus.read("r")] == ["metadata", "metadata", "end"]
        await bus.close()

    asyncio.run(main())


def test_a_log_expires_after_its_end(redis_url: str) -> None:
    async def main() -> None:
        bus = await _bus(redis_url, log_ttl=100.0)
        await bus.append("r", [("metadata", b"{}")])
        assert await bus.client.ttl(bus._key("r")) == -1  # kept while the run goes on
        await bus.append("r", [("end", b"null")])
        assert 0 < await bus.client.ttl(bus._key("r")) <= 100
        forever = await _bus(redis_url, log_ttl=math.inf)
        await forever.append("r", [("end", b"null")])
        assert await forever.client.ttl(forever._key("r")) == -1
        await bus.close()
        await forever.close()

    asyncio.run(main())


def test_signals_reach_every_process(redis_url: str) -> None:
    async def main() -> None:
        one, two = await _bus(redis_url), await _bus(redis_url)
        two.prefix = one.prefix
        got: list[str] = []
        two.handlers["cancel"] = got.append
        listeners = [asyncio.ensure_future(b.listen()) for b in (one, two)]
        await asyncio.wait_for(asyncio.gather(one.connected.wait(), two.connected.wait()), 10)
        woken = two.changed("r")
        await one.append("r", [("values", b"1")])  # an append wakes the run's followers
        await asyncio.wait_for(woken, 10)
        await one.signal("cancel", "r")
        while not got:
            await asyncio.sleep(0.01)
        assert got == ["r"]
        for task in listeners:
            task.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
        await one.close()
        await two.close()

    asyncio.run(main())


def test_end_and_deletion_signal_ended_and_the_tail_reads_the_last_event(
        redis_url: str) -> None:
    """``ended`` comes with an ``end`` append (what ``runs.wait`` waits for) and with a
    log's deletion (a rolled-back run's waiters read its record at once); ``last`` is
    the last event's name, ``None`` once the log is gone."""
    async def main() -> None:
        one, two = await _bus(redis_url), await _bus(redis_url)
        two.prefix = one.prefix
        listener = asyncio.ensure_future(two.listen(("wake", "ended")))
        await asyncio.wait_for(two.connected.wait(), 10)
        ended = two.ended("r")
        await one.append("r", [("metadata", b"{}"), ("values", b"1")])
        assert await two.last("r") == "values"
        woken = two.changed("r")
        await one.append("r", [("end", b"null")])
        await asyncio.wait_for(asyncio.gather(woken, ended), 10)
        assert await two.last("r") == "end"
        gone = two.ended("r")
        await one.delete(["r"])
        await asyncio.wait_for(gone, 10)
        assert (await two.last("r"), await two.read("r")) == (None, [])
        with pytest.raises(ValueError, match="signals must be some of"):
            await two.listen(("wake", "nope"))
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await one.close()
        await two.close()

    asyncio.run(main())
