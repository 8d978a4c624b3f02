"""The parts of a scaled process (``--database postgresql://... --redis redis://...``).

One :class:`Scaled` per process: the storage (records in PostgreSQL, event logs in
Redis), the checkpointer and the store (PostgreSQL), and, by ``role``, the run manager
of an API process (``api``), a :class:`~rillet.server._cluster.Worker` (``worker``), or
both (``all``). :meth:`open` connects and migrates (under one advisory lock, so
processes starting at once take turns), :meth:`close` drains and disconnects. See
``_cluster`` for how runs move between processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import weakref
from collections.abc import Callable
from typing import Any

from rillet.graph import CompiledStateGraph

__all__ = ["ROLES", "Scaled"]

log = logging.getLogger("rillet.server")

ROLES = ("api", "worker", "all")
_SETUP_LOCK = 7_215_042_977_153_126_403  # pg_advisory_lock key: one process migrates at a time
#: The Redis signals each role acts on: an API process follows and waits for runs, a
#: worker claims and cancels them (``_redis.SIGNALS``).
_SIGNALS = {"api": ("wake", "ended"), "worker": ("queued", "cancel"),
            "all": ("wake", "ended", "queued", "cancel")}


def _imports() -> tuple[Any, ...]:
    try:
        from psycopg_pool import AsyncConnectionPool

        from rillet.checkpoint.postgres import CONNECT_KWARGS
        from rillet.checkpoint.postgres.aio import AsyncPostgresSaver
        from rillet.server.storage.postgres import PostgresStorage
        from rillet.store.postgres.aio import AsyncPostgresStore
    except ImportError as exc:
        raise ImportError("rillet serve --database needs psycopg 3: pip install "
                          "'rillet[server,postgres,redis]'") from exc
    return _fenced(AsyncConnectionPool), CONNECT_KWARGS, AsyncPostgresSaver, PostgresStorage, \
        AsyncPostgresStore


class _IdleCheck:
    """The pool's check of a connection before it is lent: only of one that has been
    idle a while (a round trip saved on every busy checkout, ~25 per run), so a
    connection left from before a PostgreSQL restart is still found and replaced."""

    IDLE = 0.5  # seconds

    def __init__(self, check: Callable[[Any], Any]) -> None:
        self._check = check
        self._back: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    async def returned(self, conn: Any) -> None:
        self._back[conn] = time.monotonic()

    async def check(self, conn: Any) -> None:
        if time.monotonic() - self._back.get(conn, 0.0) > self.IDLE:
            await self._check(conn)


def _fenced(pool_class: Any) -> Any:
    """The pool, whose connections a run its worker may have lost cannot take
    (``_fence``): its checkpoints and records are not written."""
    from rillet.server._fence import check

    class FencedPool(pool_class):  # type: ignore[misc]
        @contextlib.asynccontextmanager
        async def connection(self, timeout: float | None = None) -> Any:
            check()
            async with super().connection(timeout) as conn:
                yield conn

    return FencedPool


class Scaled:
    """What a scaled process runs on (see the module doc)."""

    def __init__(self, graphs: dict[str, CompiledStateGraph], database: str, redis: str, *,
                 role: str = "all", jobs: int = 10, lease: float = 30.0,
                 max_attempts: int = 3, drain_timeout: float = 10.0,
                 log_ttl: float = 3600.0, poll: float = 1.0, prefix: str = "rillet:",
                 clock: Callable[[], float] = time.time, pool_size: int = 10) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        pool_class, connect_kwargs, saver_class, storage_class, store_class = _imports()
        from rillet.server._cluster import ClusterRuns, Worker
        from rillet.server._redis import RedisBus

        self.role, self.database = role, database
        self.bus = RedisBus(redis, prefix=prefix, log_ttl=log_ttl)
        size = pool_size + (jobs if role != "api" else 0)
        # A request waits at most 5 s for a connection: then it answers 503.
        idle = _IdleCheck(pool_class.check_connection)
        self.pool = pool_class(database, min_size=1, max_size=size, kwargs=connect_kwargs,
                               open=False, timeout=5.0, check=idle.check, reset=idle.returned)
        self.storage = storage_class(pool=self.pool, events=self.bus)
        self.saver = saver_class(self.pool)
        self.store = store_class(self.pool)
        for graph in graphs.values():
            graph.checkpointer = self.saver
            graph.store = self.store
        self.runs = ClusterRuns(self.storage, self.bus, graphs, self.saver, log_ttl=log_ttl,
                                lease=lease, clock=clock, poll=poll) \
            if role != "worker" else None
        self.worker = Worker(self.storage, self.bus, graphs, self.saver, jobs=jobs,
                             lease=lease, max_attempts=max_attempts,
                             drain_timeout=drain_timeout, log_ttl=log_ttl, poll=poll,
                             clock=clock) if role != "api" else None
        self._listener: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self.log_ttl = log_ttl

    async def open(self) -> None:
        """Connect to both, migrate the schemas, start listening (and working)."""
        await self.bus.setup()
        await self.pool.open(wait=True, timeout=30.0)
        async with self.pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK,))
            try:
                await self.storage.setup()
                await self.saver.setup()
                await self.store.setup()
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
        with contextlib.suppress(Exception):
            await self.store.asweep_ttl()
        loop = asyncio.get_running_loop()
        self._listener = loop.create_task(self.bus.listen(_SIGNALS[self.role]))
        with contextlib.suppress(asyncio.TimeoutError):  # signals are a speed-up: go on
            await asyncio.wait_for(self.bus.connected.wait(), 5.0)
        if self.runs is not None and not math.isinf(self.log_ttl):
            self._sweeper = loop.create_task(self.runs.sweep_forever())
        if self.worker is not None:
            self.worker.start()

    async def close(self) -> None:
        """Drain (a worker hands its runs back), then disconnect."""
        if self.worker is not None:
            await self.worker.stop()
        if self.runs is not None:
            await self.runs.drain()
        for task in (self._sweeper, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.storage.close()
        await self.pool.close()
        await self.bus.close()
