"""``PostgresStore``: the store in a PostgreSQL table (psycopg 3, the ``postgres`` extra).

Use a connection (shared by threads under a lock) or a ``psycopg_pool.ConnectionPool``.
Every batch runs in one transaction (``conn.transaction()``, which works whether the
connection is in autocommit or not); no statement is prepared, so poolers such as
pgbouncer in transaction mode work. Semantic search ranks in Python (no pgvector
needed): vectors are stored as JSON next to the value. Timestamps come from the
Python process, so keep the clocks of processes sharing a database in sync.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any, cast

try:
    import psycopg
    from psycopg.rows import tuple_row
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "rillet.store.postgres needs psycopg: pip install 'rillet[postgres]'"
    ) from exc

from rillet.errors import ConfigError
from rillet.store.base import IndexConfig, TTLConfig
from rillet.store.base._engine import EngineStore, Tx
from rillet.store.postgres._sql import SETUP, Query, Statements

__all__ = ["PoolConfig", "PostgresStore"]

PoolConfig = dict[str, Any]
"""``min_size``, ``max_size`` and other ``ConnectionPool`` arguments; ``kwargs`` go to
each connection."""

CONNECT_KWARGS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}


class PostgresStore(EngineStore):
    """A store in PostgreSQL. Call :meth:`setup` once before first use."""

    def __init__(
        self,
        conn: Any,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        super().__init__(index=index, ttl=ttl)
        self.conn = conn
        self._conn_lock = threading.Lock()

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        pool_config: PoolConfig | None = None,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> Iterator[PostgresStore]:
        """A store on ``conn_string``: one connection, or a pool given ``pool_config``."""
        if pool_config is None:
            with psycopg.Connection.connect(conn_string, **CONNECT_KWARGS) as conn:
                yield cls(conn, index=index, ttl=ttl)
            return
        from psycopg_pool import ConnectionPool

        config = dict(pool_config)
        kwargs = {**CONNECT_KWARGS, **config.pop("kwargs", {})}
        with ConnectionPool(conn_string, kwargs=kwargs, open=True, **config) as pool:
            yield cls(pool, index=index, ttl=ttl)

    def setup(self) -> None:
        """Create the table and indexes if missing. Safe in any transaction mode and
        when several processes run it at once."""
        with self._cursor() as cursor:
            for statement in SETUP:
                cursor.execute(statement, prepare=False)

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[psycopg.Cursor[tuple[Any, ...]]]:
        with contextlib.ExitStack() as stack:
            if isinstance(self.conn, psycopg.Connection):
                stack.enter_context(self._conn_lock)
                conn = self.conn
            else:
                conn = stack.enter_context(self.conn.connection())
            stack.enter_context(conn.transaction())
            with _translated(), conn.cursor(row_factory=tuple_row) as cursor:
                yield cursor

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Tx]:
        with self._cursor() as cursor:
            yield cast(Tx, _PostgresTx(cursor))


class _PostgresTx:
    """Runs each engine call's query on one cursor."""

    def __init__(self, cursor: psycopg.Cursor[tuple[Any, ...]]) -> None:
        self._cursor = cursor
        self._statements = Statements()

    def __getattr__(self, name: str) -> Any:
        build = getattr(self._statements, name)

        def call(*args: Any) -> Any:
            return self._run(build(*args))

        return call

    def _run(self, query: Query) -> Any:
        self._cursor.execute(query.sql, query.params, prepare=False)
        return query.convert(self._cursor.fetchall()) if query.convert else None


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except psycopg.errors.UndefinedTable as exc:
        raise ConfigError(
            "The store's table does not exist: call store.setup() once first."
        ) from exc
