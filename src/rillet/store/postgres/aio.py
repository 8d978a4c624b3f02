"""``AsyncPostgresStore``: :class:`~rillet.store.postgres.PostgresStore` on psycopg's
``AsyncConnection`` or ``AsyncConnectionPool``.

Same table, same SQL, same semantics. The sync methods work from threads other than
the event loop's (a sync node run in a worker thread): they hand the batch to the loop
the store last ran on.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterable
from typing import Any, cast

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import tuple_row

from rillet.errors import UsageError
from rillet.store.base import IndexConfig, Op, Result, TTLConfig
from rillet.store.base._engine import EngineStore, Tx
from rillet.store.postgres import CONNECT_KWARGS, PoolConfig, _translated
from rillet.store.postgres._sql import SETUP, Query, Statements

__all__ = ["AsyncPostgresStore"]


class AsyncPostgresStore(EngineStore):
    """An async store in PostgreSQL. Await :meth:`setup` once before first use."""

    def __init__(
        self,
        conn: Any,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        super().__init__(index=index, ttl=ttl)
        self.conn = conn
        self._conn_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        pool_config: PoolConfig | None = None,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> AsyncIterator[AsyncPostgresStore]:
        """A store on ``conn_string``: one connection, or a pool given ``pool_config``."""
        if pool_config is None:
            async with await AsyncConnection.connect(conn_string, **CONNECT_KWARGS) as conn:
                yield cls(conn, index=index, ttl=ttl)
            return
        from psycopg_pool import AsyncConnectionPool

        config = dict(pool_config)
        kwargs = {**CONNECT_KWARGS, **config.pop("kwargs", {})}
        async with AsyncConnectionPool(
            conn_string, kwargs=kwargs, open=False, **config
        ) as pool:
            yield cls(pool, index=index, ttl=ttl)

    async def setup(self) -> None:
        """Create the table and indexes if missing (see ``PostgresStore.setup``)."""
        async with self._cursor() as cursor:
            for statement in SETUP:
                await cursor.execute(statement, prepare=False)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        self._loop = asyncio.get_running_loop()
        return await super().abatch(ops)

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        ops = list(ops)
        loop = self._loop
        if loop is None or not loop.is_running() or _on_loop(loop):
            raise UsageError(
                "AsyncPostgresStore's sync methods only work from a thread other than the "
                "event loop's, once the store has run there; use the async methods "
                "(aget, aput, asearch, ...) or PostgresStore."
            )
        return asyncio.run_coroutine_threadsafe(self.abatch(ops), loop).result()

    def sweep_ttl(self) -> int:
        raise UsageError("Use `await store.asweep_ttl()` with AsyncPostgresStore.")

    @contextlib.asynccontextmanager
    async def _cursor(self) -> AsyncIterator[AsyncCursor[tuple[Any, ...]]]:
        async with contextlib.AsyncExitStack() as stack:
            if isinstance(self.conn, AsyncConnection):
                await stack.enter_async_context(self._conn_lock)
                conn = self.conn
            else:
                conn = await stack.enter_async_context(self.conn.connection())
            await stack.enter_async_context(conn.transaction())
            stack.enter_context(_translated())
            yield await stack.enter_async_context(conn.cursor(row_factory=tuple_row))

    @contextlib.asynccontextmanager
    async def _atransaction(self) -> AsyncIterator[Tx]:
        async with self._cursor() as cursor:
            yield cast(Tx, _AsyncPostgresTx(cursor))


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return getattr(loop, "_thread_id", None) == threading.get_ident()


class _AsyncPostgresTx:
    """Runs each engine call's query on one async cursor."""

    def __init__(self, cursor: AsyncCursor[tuple[Any, ...]]) -> None:
        self._cursor = cursor
        self._statements = Statements()

    def __getattr__(self, name: str) -> Any:
        build = getattr(self._statements, name)

        async def call(*args: Any) -> Any:
            return await self._run(build(*args))

        return call

    async def _run(self, query: Query) -> Any:
        await self._cursor.execute(query.sql, query.params, prepare=False)
        return query.convert(await self._cursor.fetchall()) if query.convert else None
