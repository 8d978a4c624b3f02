"""Redis in a scaled deployment: the runs' event logs, and the signals between processes.

**Event logs** are Redis Streams, one per run (``{prefix}log:{run_id}``). An append is
one Lua script, so it is atomic and Redis numbers the events: it reads the stream's last
entry and adds the batch after it, so ids go on across a takeover by another worker
with nobody counting (entry ``0-(n+1)`` holds event ``n``: ``0-0`` is no valid id). A
batch carries a token the script remembers, so an append retried after a cut
connection (the script ran, its answer was lost) is not logged twice. The writer also
passes the next number it expects (a *floor*): if Redis lost the stream's tail
(restarted without its append-only file), numbering still never goes back. Appends
and reads retry through a dropped connection for up to ``retry_for`` seconds (a Redis
restart), then raise.

**Signals** are pub/sub messages whose payload is a run id: ``wake`` (the run's log
grew: its followers read on), ``ended`` (its ``end`` event was appended: what a
``runs.wait`` waits for), ``queued`` (a run is waiting for a worker), ``cancel``
(stop the run, wherever it runs). Each process keeps one subscription
(:meth:`RedisBus.listen`); a message may be lost (while the subscription reconnects),
so every waiter also polls: signals make things fast, the logs and the database make
them right. When the subscription comes back, every waiter is woken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from rillet.server._fence import check as check_fence
from rillet.server.storage import Event

try:
    import redis.asyncio as aioredis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import ResponseError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ImportError as exc:  # pragma: no cover - the extra is installed in the tests
    raise ImportError(
        "rillet serve --redis needs redis-py: pip install 'rillet[redis]'") from exc

__all__ = ["TRANSIENT", "RedisBus", "StaleAttempt"]

log = logging.getLogger("rillet.server")
T = TypeVar("T")

#: Errors of a Redis that is away for a moment (restarting, a cut connection).
TRANSIENT: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, OSError)

_APPEND = """
local done = redis.call('GET', KEYS[2])
if done then
  local sep = string.find(done, ' ', 1, true)
  if string.sub(done, 1, sep - 1) == ARGV[1] then
    return tonumber(string.sub(done, sep + 1))
  end
end
local attempt = tonumber(ARGV[6])
if attempt > 0 then
  local fence = tonumber(redis.call('GET', KEYS[3]) or '0')
  if attempt < fence then
    return redis.error_reply('STALE attempt ' .. attempt .. ' < ' .. fence)
  end
  if attempt > fence then redis.call('SET', KEYS[3], attempt, 'EX', 86400 * 7) end
end
local n = tonumber(ARGV[2])
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #top > 0 then
  local last = tonumber(string.match(top[1][1], '%-(%d+)$'))
  if last > n then n = last end
end
local first = n
local ended = false
for i = 8, #ARGV, 2 do
  n = n + 1
  redis.call('XADD', KEYS[1], '0-' .. n, 'e', ARGV[i], 'd', ARGV[i + 1])
  if ARGV[i] == 'end' then ended = true end
end
local ttl = tonumber(ARGV[5])
redis.call('SET', KEYS[2], ARGV[1] .. ' ' .. first, 'EX', 86400)
if ended and ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
  redis.call('EXPIRE', KEYS[3], ttl)
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
if ended then redis.call('PUBLISH', ARGV[7], ARGV[4]) end
return first
"""

SIGNALS = ("wake", "ended", "queued", "cancel")
#: The highest entry id of rillet's (``0-N``): a stream's tail of rillet's entries.
_LAST_ID = f"0-{2**64 - 1}"


class StaleAttempt(Exception):
    """An append by an attempt of a run older than one that appended already: the
    worker lost the run (its lease ran out while it stalled) and another took it over.
    Its events are refused, so the log holds one attempt at a time."""


class RedisBus:
    """Event logs and signals on the Redis at ``url`` (see the module doc). Its
    ``append``/``read``/``delete`` are the ``events=`` of ``PostgresStorage``.

    ``log_ttl``: a log expires that many seconds after its ``end`` event (besides the
    storage's sweep; ``math.inf``: never). ``max_connections``: to Redis at most (the
    subscription's included); more commands at once wait for one.
    """

    def __init__(self, url: str, *, prefix: str = "rillet:", retry_for: float = 30.0,
                 log_ttl: float = math.inf, max_connections: int = 64) -> None:
        self.url, self.prefix, self.retry_for = url, prefix, retry_for
        self.max_connections = max_connections
        self.log_ttl = log_ttl
        self.client: Any = None
        self._script: Any = None
        self._floor: dict[str, int] = {}  # run id -> the next event number it wrote
        self._waiters: dict[str, asyncio.Future[None]] = {}  # wake
        self._enders: dict[str, asyncio.Future[None]] = {}  # ended
        self.handlers: dict[str, Callable[[str], object]] = {}
        self.connected = asyncio.Event()  # the subscription is on

    async def setup(self) -> None:
        # At most ``max_connections`` at once; a command waits (up to 10 s) for one
        # rather than fail, as redis-py's default pool (100, then an error) would
        # under 500 streams read at once.
        pool = aioredis.BlockingConnectionPool.from_url(
            self.url, max_connections=self.max_connections, timeout=10,
            socket_connect_timeout=5, socket_timeout=10, health_check_interval=15,
            retry_on_timeout=False)
        self.client = aioredis.Redis(connection_pool=pool)
        await self._retrying(self.client.ping)
        self._script = self.client.register_script(_APPEND)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    def _key(self, run_id: str) -> str:
        return f"{self.prefix}log:{run_id}"

    def _channel(self, signal: str) -> str:
        return f"{self.prefix}{signal}"

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, again through transient failures for up to ``retry_for`` seconds."""
        deadline = time.monotonic() + self.retry_for
        pause = 0.05
        while True:
            try:
                return await call()
            except TRANSIENT as exc:
                if time.monotonic() + pause > deadline:
                    raise
                log.warning("redis unavailable (%r): retrying", exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)

    # ------------------------------------------------------------ event logs
    async def append(self, run_id: str, events: Sequence[tuple[str, bytes]], *,
                     attempt: int | None = None) -> int:
        """Add ``events`` to the run's log; the number of the first (see the module doc).

        :raises StaleAttempt: ``attempt`` is older than one that appended already.
        """
        check_fence()  # a run its worker may have lost logs nothing (``_fence``)
        token = uuid.uuid4().hex
        ttl = 0 if math.isinf(self.log_ttl) else max(int(self.log_ttl), 1)
        args: list[Any] = [token, self._floor.get(run_id, 0), self._channel("wake"), run_id, ttl,
                           attempt or 0, self._channel("ended")]
        for name, data in events:
            args += (name, data)
        keys = [self._key(run_id), f"{self.prefix}batch:{run_id}",
                f"{self.prefix}fence:{run_id}"]
        try:
            first = int(await self._retrying(lambda: self._script(keys=keys, args=args)))
        except ResponseError as exc:
            if str(exc).startswith("STALE"):
                raise StaleAttempt(f"run {run_id}: {exc}") from None
            raise
        if any(name == "end" for name, _ in events):
            self._floor.pop(run_id, None)
        else:
            self._floor[run_id] = first + len(events)
        return first

    async def read(self, run_id: str, after: int = -1, limit: int = 1000) -> list[Event]:
        """The run's events numbered above ``after``, in order."""
        entries = await self._retrying(lambda: self.client.xrange(
            self._key(run_id), f"({0}-{after + 1}", "+", count=limit))
        out = []
        for entry_id, fields in entries:
            if not entry_id.startswith(b"0-"):  # not one of rillet's (ids 0-N): skipped
                continue
            seq = int(entry_id.rsplit(b"-", 1)[1]) - 1
            out.append(Event(seq, fields[b"e"].decode(), fields[b"d"]))
        return out

    async def last(self, run_id: str) -> str | None:
        """The name of the run's last event (``None``: its log is empty or gone)."""
        entries = await self._retrying(lambda: self.client.xrevrange(
            self._key(run_id), _LAST_ID, "-", count=1))
        return entries[0][1][b"e"].decode() if entries else None

    async def delete(self, run_ids: Sequence[str]) -> None:
        """Delete the runs' logs, and signal ``ended`` for each: a waiter of a run that
        was deleted (rolled back, its thread deleted) then reads its record at once."""
        if not run_ids:
            return
        keys = [k for r in run_ids for k in (self._key(r), f"{self.prefix}batch:{r}",
                                              f"{self.prefix}fence:{r}")]

        async def delete() -> None:
            pipe = self.client.pipeline(transaction=False)
            pipe.delete(*keys)
            for run_id in run_ids:
                pipe.publish(self._channel("ended"), run_id)
            await pipe.execute()

        await self._retrying(delete)

    # ------------------------------------------------------------ signals
    async def signal(self, signal: str, run_id: str) -> None:
        """Tell every process (best effort: a lost signal only costs a poll)."""
        try:
            await self.client.publish(self._channel(signal), run_id)
        except TRANSIENT as exc:
            log.warning("redis unavailable, %s signal of run %s not sent: %r",
                        signal, run_id, exc)

    def changed(self, run_id: str) -> asyncio.Future[None]:
        """A future resolved at the run's next ``wake`` (or when the subscription
        comes back); take it before reading the log, so no wake falls in between."""
        future = self._waiters.get(run_id)
        if future is None or future.done():
            future = self._waiters[run_id] = asyncio.get_running_loop().create_future()
        return future

    def ended(self, run_id: str) -> asyncio.Future[None]:
        """A future resolved when the run's ``end`` event is appended (or when the
        subscription comes back); take it before reading the log."""
        future = self._enders.get(run_id)
        if future is None or future.done():
            future = self._enders[run_id] = asyncio.get_running_loop().create_future()
        return future

    @staticmethod
    def _resolve(futures: dict[str, asyncio.Future[None]], run_id: str) -> None:
        future = futures.pop(run_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    def _wake(self, run_id: str) -> None:
        self._resolve(self._waiters, run_id)

    def _wake_all(self) -> None:
        for futures in (self._waiters, self._enders):
            for run_id in list(futures):
                self._resolve(futures, run_id)

    async def listen(self, signals: Sequence[str] = SIGNALS) -> None:
        """Dispatch ``signals`` until cancelled: ``wake`` to :meth:`changed`'s futures,
        the others to ``handlers[signal](run_id)``; reconnect whenever Redis goes away.
        A process subscribes to the signals it acts on only: every append publishes a
        ``wake``, which a worker has no use for."""
        unknown = set(signals) - set(SIGNALS)
        if unknown or not signals:
            raise ValueError(f"signals must be some of {', '.join(SIGNALS)}, got {signals!r}")
        channels = {self._channel(s).encode(): s for s in signals}
        pause = 0.05
        while True:
            pubsub = self.client.pubsub()
            try:
                await pubsub.subscribe(*channels)
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        if message["data"] == len(channels):
                            self.connected.set()
                            pause = 0.05
                            self._wake_all()  # what they missed meanwhile is in the logs
                        continue
                    if message["type"] != "message":
                        continue
                    signal, run_id = channels.get(message["channel"]), message["data"].decode()
                    if signal == "wake":
                        self._wake(run_id)
                    elif signal == "ended":
                        self._resolve(self._enders, run_id)
                    elif signal is not None and signal in self.handlers:
                        try:
                            self.handlers[signal](run_id)
                        except Exception:
                            log.exception("redis %s signal handler failed", signal)
            except TRANSIENT as exc:
                if self.connected.is_set():
                    log.warning("redis subscription lost (%r): reconnecting", exc)
                self.connected.clear()
                self._wake_all()
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
