"""The PostgreSQL saver for async code, on ``psycopg.AsyncConnection`` or
``psycopg_pool.AsyncConnectionPool``::

    async with AsyncPostgresSaver.from_conn_string("postgresql://...") as saver:
        ...

The statements, the tables and the pgbouncer rules are those of
:mod:`rillet.checkpoint.postgres`. The blocking methods (``save``, ``load``, ...)
work too: they run the async ones on the loop the saver was created on (from another
thread), or on a private loop when that one is not running.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Self

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool

from rillet.checkpoint.base import (
    BaseCheckpointSaver,
    Blob,
    BlobKey,
    CheckpointRecord,
    PendingWrite,
    chains,
)
from rillet.checkpoint.postgres import (
    CONNECT_KWARGS,
    MIGRATIONS,
    Stmt,
    blobs_stmt,
    copy_stmt,
    delete_for_runs_stmt,
    delete_stmt,
    history_stmt,
    load_stmt,
    parse_load,
    prune_stmt,
    record,
    save_stmt,
    setup_statements,
    writes_stmt,
)

if TYPE_CHECKING:
    from rillet.checkpoint.serde import Serializer

__all__ = ["AsyncPostgresSaver"]


class AsyncPostgresSaver(BaseCheckpointSaver):
    """Checkpoints in PostgreSQL, for async code; see the module doc."""

    def __init__(
        self, conn: psycopg.AsyncConnection[Any] | AsyncConnectionPool[Any], *,
        serde: Serializer | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = asyncio.Lock()  # one statement at a time on a single connection
        self.is_setup = False

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str, *, max_size: int = 10
    ) -> AsyncIterator[Self]:
        """Open a pool of up to ``max_size`` connections to ``conn_string`` (autocommit,
        no prepared statements, checked before each use), yield a saver on it, close it."""
        async with AsyncConnectionPool(
            conn_string, min_size=1, max_size=max_size, kwargs=CONNECT_KWARGS,
            check=AsyncConnectionPool.check_connection, open=False,
        ) as pool:
            yield cls(pool)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if self._home is None:
            # Made outside a loop (a server builds it before its loop runs): its pool's
            # locks belong to the loop it is used on, so the blocking methods must run
            # there too. From a private loop they worked until the pool had a waiter:
            # "Lock ... is bound to a different event loop".
            self._home = asyncio.get_running_loop()
        if isinstance(self.conn, AsyncConnectionPool):
            async with self.conn.connection() as conn:
                yield conn
        else:
            async with self.lock:
                yield self.conn

    async def setup(self) -> None:
        """Create or migrate the tables. Idempotent; every method runs it on first use."""
        async with (
            self._connection() as conn, conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cur,
        ):
            for sql in setup_statements():
                if sql is not None:
                    await cur.execute(sql, prepare=False)
                    continue
                await cur.execute("SELECT coalesce(max(v), -1) FROM rillet_migrations",
                                  prepare=False)
                row = await cur.fetchone()
                for v in range(row[0] + 1 if row else 0, len(MIGRATIONS)):
                    await cur.execute(MIGRATIONS[v], prepare=False)
                    await cur.execute("INSERT INTO rillet_migrations (v) VALUES (%s)", (v,),
                                      prepare=False)
        self.is_setup = True

    async def _run(self, stmt: Stmt) -> list[tuple[Any, ...]]:
        if not self.is_setup:
            await self.setup()
        async with (
            self._connection() as conn, _atomic(conn),
            conn.cursor(row_factory=tuple_row) as cur,
        ):
            await cur.execute(stmt[0], stmt[1], prepare=False)
            return await cur.fetchall() if cur.description else []

    async def asave(self, record: CheckpointRecord, blobs: Mapping[BlobKey, Blob]) -> None:
        await self._run(save_stmt(record, blobs))

    async def asave_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str,
        writes: Sequence[PendingWrite],
    ) -> None:
        await self._run(writes_stmt(thread_id, checkpoint_ns, checkpoint_id, writes))

    async def aload(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> tuple[CheckpointRecord, list[PendingWrite]] | None:
        return parse_load(await self._run(load_stmt(thread_id, checkpoint_ns, checkpoint_id)))

    async def aload_blobs(
        self, thread_id: str, checkpoint_ns: str, keys: Sequence[BlobKey]
    ) -> dict[BlobKey, list[bytes]]:
        if not keys:
            return {}
        return chains(await self._run(blobs_stmt(thread_id, checkpoint_ns, keys)))

    async def ahistory(
        self, thread_id: str, checkpoint_ns: str | None = "", *, before: str | None = None,
        limit: int | None = None, filter: Mapping[str, Any] | None = None,
    ) -> list[CheckpointRecord]:
        stmt = history_stmt(thread_id, checkpoint_ns, before, filter, None, limit)
        return [record(row) for row in await self._run(stmt)]

    async def adelete_thread(self, thread_id: str) -> None:
        await self._run(delete_stmt(thread_id))

    async def aprune(self, thread_id: str, keep_last: int) -> int:
        return int((await self._run(prune_stmt(thread_id, keep_last)))[0][0])

    async def adelete_for_runs(self, thread_id: str, run_ids: Sequence[str]) -> int:
        if not run_ids:
            return 0
        return int((await self._run(delete_for_runs_stmt(thread_id, run_ids)))[0][0])

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self._run(copy_stmt(source_thread_id, target_thread_id))


def _atomic(conn: psycopg.AsyncConnection[Any]) -> AbstractAsyncContextManager[Any]:
    # See rillet.checkpoint.postgres._atomic.
    return nullcontext() if conn.autocommit else conn.transaction()
