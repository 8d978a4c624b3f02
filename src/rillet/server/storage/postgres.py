"""The server's storage on PostgreSQL, with psycopg 3 (``pip install 'rillet[postgres]'``).

Several server processes share one database. Each record is a row holding its exact
JSON (``data bytea``, written by :mod:`rillet.server._json`) plus the columns searches
filter and sort on. The JSON is kept as bytes rather than JSONB because JSONB does not
give back what was put: it reorders object keys, drops duplicate ones, writes a float
such as ``1e20`` as an integer and refuses strings holding NUL. Metadata and thread
values are copied into JSONB columns for filtering (``metadata -> key = value``, the
per-key equality of :class:`~rillet.server.storage.sqlite.SqliteStorage`), with NUL
characters mapped to a private-use escape so that every value can be indexed.

Tables (``rillet_server_`` keeps them apart from the checkpoint saver's ``rillet_*``
and the store's ``store_*``): ``rillet_server_assistants``,
``rillet_server_assistant_versions``, ``rillet_server_threads``, ``rillet_server_runs``,
``rillet_server_run_events``, ``rillet_server_event_seqs`` (the next sequence number of
each run's log) and ``rillet_server_schema`` (the migration version). :meth:`setup`
applies the migrations under a transaction-scoped advisory lock, so processes starting
at once are safe.

The run queue of a scaled deployment runs its own SQL on :attr:`PostgresStorage.pool`:
the runs table's ``lease_until``, ``worker`` and ``cancel`` columns are its own, never
written here. With ``events=`` (an object with ``append``, ``read`` and ``delete``,
e.g. Redis streams) the event logs live there instead of ``rillet_server_run_events``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

try:
    import psycopg
    from psycopg.rows import tuple_row
    from psycopg_pool import AsyncConnectionPool
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "rillet.server.storage.postgres needs psycopg 3 and psycopg-pool: "
        "pip install 'rillet[postgres]'"
    ) from exc

from rillet.server import _json
from rillet.server.storage.base import Event, Record, Storage, version_of

__all__ = ["EventLogs", "PostgresStorage"]

CONNECT_KWARGS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}
"""How the pool opens connections: autocommit (each statement, or ``conn.transaction()``,
is a transaction) and nothing prepared, so pgbouncer in transaction mode works."""

_LOCK_KEY = 7_215_042_977_153_126_402  # pg_advisory_xact_lock key of setup()
_KEY = 'TEXT COLLATE "C"'  # sorts as Python and SQLite sort
MIGRATIONS: list[list[str]] = [
    [
        f"""CREATE TABLE rillet_server_assistants (assistant_id {_KEY} PRIMARY KEY,
            graph_id {_KEY} NOT NULL, created_at {_KEY} NOT NULL, name TEXT,
            metadata JSONB NOT NULL, data BYTEA NOT NULL)""",
        f"""CREATE TABLE rillet_server_assistant_versions (assistant_id {_KEY} NOT NULL,
            version INTEGER NOT NULL, metadata JSONB NOT NULL, data BYTEA NOT NULL,
            PRIMARY KEY (assistant_id, version))""",
        f"""CREATE TABLE rillet_server_threads (thread_id {_KEY} PRIMARY KEY,
            status {_KEY}, created_at {_KEY}, updated_at {_KEY}, state_updated_at {_KEY},
            metadata JSONB NOT NULL, "values" JSONB NOT NULL, data BYTEA NOT NULL)""",
        f"""CREATE TABLE rillet_server_runs (run_id {_KEY} PRIMARY KEY,
            thread_id {_KEY} NOT NULL, status {_KEY} NOT NULL, created_at {_KEY} NOT NULL,
            seq BIGINT GENERATED ALWAYS AS IDENTITY, start_at DOUBLE PRECISION,
            ended_at DOUBLE PRECISION, attempt INTEGER NOT NULL DEFAULT 1,
            lease_until DOUBLE PRECISION, worker TEXT, cancel TEXT,
            log_deleted BOOLEAN NOT NULL DEFAULT false, data BYTEA NOT NULL)""",
        """CREATE INDEX rillet_server_runs_by_thread
            ON rillet_server_runs (thread_id, created_at, seq)""",
        "CREATE INDEX rillet_server_runs_by_status ON rillet_server_runs (status, seq)",
        "CREATE INDEX rillet_server_runs_by_end ON rillet_server_runs (ended_at)",
        """CREATE UNIQUE INDEX rillet_server_runs_one_running
            ON rillet_server_runs (thread_id) WHERE status = 'running'""",
        f"""CREATE TABLE rillet_server_run_events (run_id {_KEY} NOT NULL,
            seq BIGINT NOT NULL, event TEXT NOT NULL, data BYTEA NOT NULL,
            PRIMARY KEY (run_id, seq))""",
        f"""CREATE TABLE rillet_server_event_seqs (run_id {_KEY} PRIMARY KEY,
            next_seq BIGINT NOT NULL)""",
    ],
]
_THREAD_SORT = frozenset({"thread_id", "status", "created_at", "updated_at",
                          "state_updated_at"})


class EventLogs(Protocol):
    """Where event logs go instead of PostgreSQL (``PostgresStorage(events=...)``)."""

    async def append(self, run_id: str, events: Sequence[tuple[str, bytes]], *,
                     attempt: int | None = None) -> int: ...

    async def read(self, run_id: str, after: int, limit: int) -> list[Event]: ...

    async def delete(self, run_ids: list[str]) -> Any: ...


def _escape_nul(value: Any) -> Any:
    # JSONB cannot hold U+0000: map it (and the escape character itself) one to one,
    # so that equal values stay equal and unequal ones unequal.
    if isinstance(value, str):
        return value.replace("\ue000", "\ue000\ue000").replace("\x00", "\ue000\ue001")
    if isinstance(value, dict):
        return {_escape_nul(k): _escape_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_nul(v) for v in value]
    return value


def _jsonb(value: Any) -> str:
    """``value`` as JSON text that JSONB accepts (see :func:`_escape_nul`)."""
    text = _json.dumps(value)
    if b"\\u0000" in text or "\ue000".encode() in text:
        text = _json.dumps(_escape_nul(_json.loads(text)))
    return text.decode()


def _key_filter(column: str, wanted: dict[str, Any] | None, args: list[Any]) -> list[str]:
    """SQL conditions: ``column`` holds every key of ``wanted`` with an equal value (a
    missing key equals ``None``, as ``dict.get`` has it)."""
    where = []
    for key, value in (wanted or {}).items():
        args.extend([_escape_nul(key), _jsonb(value)])
        if value is None:
            args.append(args[-2])
            where.append(f"({column} -> %s::text = %s::jsonb OR {column} -> %s::text IS NULL)")
        else:
            where.append(f"{column} -> %s::text = %s::jsonb")
    return where


def _thread_filter(metadata: dict[str, Any] | None, values: dict[str, Any] | None,
                   status: str | None, args: list[Any]) -> list[str]:
    where = _key_filter("metadata", metadata, args)
    if values:
        where.append("jsonb_typeof(\"values\") = 'object'")
        where.extend(_key_filter('"values"', values, args))
    if status is not None:
        where.append("status = %s")
        args.append(status)
    return where


def _where(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def _assistant_row(a: Record) -> tuple[Any, ...]:
    return (a["assistant_id"], a["graph_id"], a["created_at"], a.get("name"),
            _jsonb(a.get("metadata") or {}), _json.dumps(a))


def _thread_row(t: Record) -> tuple[Any, ...]:
    return (t["thread_id"], t["status"], t["created_at"], t["updated_at"],
            t.get("state_updated_at"), _jsonb(t.get("metadata") or {}),
            _jsonb(t.get("values")), _json.dumps(t))


def _run_row(r: Record) -> tuple[Any, ...]:
    return (r["run_id"], r["thread_id"], r["status"], r["created_at"], r.get("_start_at"),
            r.get("_ended_at"), r.get("_attempt") or 1, _json.dumps(r))


_PUT_ASSISTANT = """INSERT INTO rillet_server_assistants
    (assistant_id, graph_id, created_at, name, metadata, data)
    VALUES (%s, %s, %s, %s, %s::jsonb, %s)"""
_PUT_VERSION = """INSERT INTO rillet_server_assistant_versions
    (assistant_id, version, metadata, data) VALUES (%s, %s, %s::jsonb, %s)
    ON CONFLICT (assistant_id, version) DO UPDATE
    SET metadata = EXCLUDED.metadata, data = EXCLUDED.data"""
_THREAD_COLS = "status = %s, created_at = %s, updated_at = %s, state_updated_at = %s, " \
    "metadata = %s::jsonb, \"values\" = %s::jsonb, data = %s"
_RUN_COLS = "thread_id = %s, status = %s, created_at = %s, start_at = %s, ended_at = %s, " \
    "attempt = %s, data = %s"
_APPEND = """
WITH head AS (
    INSERT INTO rillet_server_event_seqs AS s (run_id, next_seq) VALUES (%(run)s, %(n)s)
    ON CONFLICT (run_id) DO UPDATE SET next_seq = s.next_seq + EXCLUDED.next_seq
    RETURNING s.next_seq - %(n)s AS seq),
stored AS (
    INSERT INTO rillet_server_run_events (run_id, seq, event, data)
    SELECT %(run)s, head.seq + e.i - 1, e.event, e.data
    FROM head, unnest(%(names)s::text[], %(datas)s::bytea[]) WITH ORDINALITY AS e(event, data, i))
SELECT seq FROM head"""


class PostgresStorage(Storage):
    """Storage in the PostgreSQL database at ``dsn`` (see the module doc).

    ``pool=`` takes an open ``AsyncConnectionPool`` of your own (its connections in
    autocommit mode, as :data:`CONNECT_KWARGS`), which :meth:`close` leaves open.
    ``timeout`` bounds the wait for a connection: a database that went away raises a
    ``psycopg.OperationalError`` (``psycopg_pool.PoolTimeout``) after it.
    """

    def __init__(
        self, dsn: str | None = None, *, min_size: int = 1, max_size: int = 10,
        events: EventLogs | None = None, pool: AsyncConnectionPool[Any] | None = None,
        timeout: float = 30.0,
    ) -> None:
        if (dsn is None) == (pool is None):
            raise TypeError("PostgresStorage takes a dsn or pool=, one of them")
        self.events = events
        self._own_pool = pool is None
        self.pool: AsyncConnectionPool[Any] = pool if pool is not None else AsyncConnectionPool(
            dsn or "", min_size=min_size, max_size=max_size, kwargs=CONNECT_KWARGS,
            check=AsyncConnectionPool.check_connection, timeout=timeout, open=False,
        )
        """The connection pool; its connections are in autocommit mode."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[psycopg.AsyncCursor[Any]]:
        """A cursor (tuple rows) on a pooled connection, inside one transaction that
        commits when the block ends (rolls back if it raises)."""
        async with (self.pool.connection() as conn, conn.transaction(),
                    conn.cursor(row_factory=tuple_row) as cur):
            yield cur

    @asynccontextmanager
    async def pipelined(self) -> AsyncIterator[psycopg.AsyncCursor[Any]]:
        """As :meth:`transaction`, in pipeline mode: what is executed is sent at once
        and waits for PostgreSQL's answer only when a result is fetched (a read and a
        write that depends on it: two round trips, not BEGIN, read, write, COMMIT's
        four). A cursor's ``rowcount`` is not known before the block ends."""
        async with (self.pool.connection() as conn, conn.pipeline(), conn.transaction(),
                    conn.cursor(row_factory=tuple_row) as cur):
            yield cur

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[psycopg.AsyncCursor[Any]]:
        """A cursor (tuple rows) on a pooled connection for one statement, its own
        transaction (autocommit): one round trip less than :meth:`transaction`'s
        BEGIN and COMMIT around it."""
        async with self.pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            yield cur

    async def setup(self) -> None:
        """Open the pool (if it is ours) and create or migrate the tables."""
        if self._own_pool and self.pool.closed:
            await self.pool.open(wait=True, timeout=self.pool.timeout)
        async with self.transaction() as cur:
            await cur.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
            await cur.execute("CREATE TABLE IF NOT EXISTS rillet_server_schema "
                              "(version INTEGER PRIMARY KEY)")
            await cur.execute("SELECT coalesce(max(version), -1) FROM rillet_server_schema")
            row = await cur.fetchone()
            for version in range(row[0] + 1 if row else 0, len(MIGRATIONS)):
                for statement in MIGRATIONS[version]:
                    await cur.execute(statement)
                await cur.execute("INSERT INTO rillet_server_schema VALUES (%s)", (version,))

    async def close(self) -> None:
        if self._own_pool:
            await self.pool.close()

    async def _one(self, sql: str, args: Sequence[Any]) -> Record | None:
        async with self.statement() as cur:
            await cur.execute(sql, args)
            row = await cur.fetchone()
        return _json.loads(row[0]) if row else None

    async def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Record]:
        async with self.statement() as cur:
            await cur.execute(sql, args)
            rows = await cur.fetchall()
        return [_json.loads(row[0]) for row in rows]

    async def _page(
        self, table: str, where: list[str], args: list[Any], order: str, limit: int,
        offset: int,
    ) -> tuple[list[Record], int]:
        async with self.transaction() as cur:
            await cur.execute(f"SELECT count(*) FROM {table}{_where(where)}", args)
            row = await cur.fetchone()
            await cur.execute(f"SELECT data FROM {table}{_where(where)} ORDER BY {order} "
                              "LIMIT %s OFFSET %s", [*args, limit, offset])
            rows = await cur.fetchall()
        return [_json.loads(r[0]) for r in rows], int(row[0]) if row else 0

    async def _write(self, sql: str, args: Sequence[Any]) -> int:
        async with self.statement() as cur:
            await cur.execute(sql, args)
            return cur.rowcount

    # ------------------------------------------------------------ assistants
    async def put_assistant(self, assistant: Record) -> None:
        await self._write(
            f"{_PUT_ASSISTANT} ON CONFLICT (assistant_id) DO UPDATE SET graph_id = "
            "EXCLUDED.graph_id, created_at = EXCLUDED.created_at, name = EXCLUDED.name, "
            "metadata = EXCLUDED.metadata, data = EXCLUDED.data", _assistant_row(assistant))

    async def get_assistant(self, assistant_id: str) -> Record | None:
        return await self._one("SELECT data FROM rillet_server_assistants "
                               "WHERE assistant_id = %s", (assistant_id,))

    async def search_assistants(
        self, *, graph_id: str | None, metadata: dict[str, Any] | None, limit: int, offset: int,
        name: str | None = None,
    ) -> tuple[list[Record], int]:
        args: list[Any] = []
        where = _key_filter("metadata", metadata, args)
        if graph_id is not None:
            where.append("graph_id = %s")
            args.append(graph_id)
        if name is not None:
            where.append("strpos(coalesce(name, ''), %s) > 0")
            args.append(name)
        return await self._page("rillet_server_assistants", where, args,
                                "created_at DESC, assistant_id", limit, offset)

    async def create_assistant(self, assistant: Record) -> bool:
        async with self.transaction() as cur:
            await cur.execute(f"{_PUT_ASSISTANT} ON CONFLICT DO NOTHING",
                              _assistant_row(assistant))
            made = cur.rowcount == 1
            if made:
                version = version_of(assistant)
                await cur.execute(_PUT_VERSION, (
                    assistant["assistant_id"], assistant["version"],
                    _jsonb(version.get("metadata") or {}), _json.dumps(version)))
        return made

    async def delete_assistant(self, assistant_id: str) -> bool:
        async with self.transaction() as cur:
            await cur.execute("DELETE FROM rillet_server_assistants WHERE assistant_id = %s",
                              (assistant_id,))
            gone = cur.rowcount == 1
            await cur.execute("DELETE FROM rillet_server_assistant_versions "
                              "WHERE assistant_id = %s", (assistant_id,))
        return gone

    async def put_assistant_version(self, version: Record) -> None:
        await self._write(_PUT_VERSION, (version["assistant_id"], version["version"],
                                         _jsonb(version.get("metadata") or {}),
                                         _json.dumps(version)))

    async def get_assistant_version(self, assistant_id: str, version: int) -> Record | None:
        return await self._one("SELECT data FROM rillet_server_assistant_versions "
                               "WHERE assistant_id = %s AND version = %s", (assistant_id, version))

    async def list_assistant_versions(
        self, assistant_id: str, *, metadata: dict[str, Any] | None, limit: int, offset: int
    ) -> list[Record]:
        args: list[Any] = [assistant_id]
        where = ["assistant_id = %s", *_key_filter("metadata", metadata, args)]
        return await self._all(f"SELECT data FROM rillet_server_assistant_versions"
                               f"{_where(where)} ORDER BY version DESC LIMIT %s OFFSET %s",
                               [*args, limit, offset])

    # ------------------------------------------------------------ threads
    async def create_thread(self, thread: Record) -> bool:
        return await self._write(
            "INSERT INTO rillet_server_threads (thread_id, status, created_at, updated_at, "
            "state_updated_at, metadata, \"values\", data) VALUES "
            "(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s) ON CONFLICT DO NOTHING",
            _thread_row(thread)) == 1

    async def get_thread(self, thread_id: str) -> Record | None:
        return await self._one("SELECT data FROM rillet_server_threads WHERE thread_id = %s",
                               (thread_id,))

    async def update_thread(self, thread_id: str, **fields: Any) -> Record | None:
        async with self.pipelined() as cur:
            await cur.execute("SELECT data FROM rillet_server_threads WHERE thread_id = %s "
                              "FOR UPDATE", (thread_id,))
            row = await cur.fetchone()
            if row is None:
                return None
            thread: Record = {**_json.loads(row[0]), **fields}
            await cur.execute(f"UPDATE rillet_server_threads SET {_THREAD_COLS} "
                              "WHERE thread_id = %s", (*_thread_row(thread)[1:], thread_id))
        return thread

    async def delete_thread(self, thread_id: str, *, runs: bool = True) -> bool:
        if not runs:  # one statement
            return await self._write("DELETE FROM rillet_server_threads WHERE thread_id = %s",
                                     (thread_id,)) == 1
        async with self.transaction() as cur:
            await cur.execute("DELETE FROM rillet_server_threads WHERE thread_id = %s",
                              (thread_id,))
            gone = cur.rowcount == 1
            run_ids: list[str] = []
            if runs:
                await cur.execute("DELETE FROM rillet_server_runs WHERE thread_id = %s "
                                  "RETURNING run_id", (thread_id,))
                run_ids = [r[0] for r in await cur.fetchall()]
                await self._drop_logs(cur, run_ids)
        await self._drop_remote_logs(run_ids)
        return gone

    async def search_threads(
        self, *, metadata: dict[str, Any] | None, status: str | None,
        ids: list[str] | None, limit: int, offset: int, sort_by: str, sort_order: str,
        values: dict[str, Any] | None = None,
    ) -> tuple[list[Record], int]:
        column = sort_by if sort_by in _THREAD_SORT else "created_at"
        # SQLite's order: NULL is the smallest value
        order = "ASC NULLS FIRST" if sort_order.lower() == "asc" else "DESC NULLS LAST"
        if column == "state_updated_at":  # as SqliteStorage: a missing one sorts as ""
            column = "coalesce(state_updated_at, '')"
        args: list[Any] = []
        where = _thread_filter(metadata, values, status, args)
        if ids:
            where.append("thread_id = ANY(%s::text[])")
            args.append(list(ids))
        return await self._page("rillet_server_threads", where, args,
                                f"{column} {order}, thread_id {order}", limit, offset)

    async def count_threads(
        self, *, metadata: dict[str, Any] | None, values: dict[str, Any] | None,
        status: str | None,
    ) -> int:
        args: list[Any] = []
        where = _thread_filter(metadata, values, status, args)
        async with self.statement() as cur:
            await cur.execute(f"SELECT count(*) FROM rillet_server_threads{_where(where)}", args)
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------ runs
    async def put_run(self, run: Record) -> None:
        await self._write(
            "INSERT INTO rillet_server_runs (run_id, thread_id, status, created_at, start_at, "
            "ended_at, attempt, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (run_id) DO UPDATE SET thread_id = EXCLUDED.thread_id, "
            "status = EXCLUDED.status, created_at = EXCLUDED.created_at, "
            "start_at = EXCLUDED.start_at, ended_at = EXCLUDED.ended_at, "
            "attempt = EXCLUDED.attempt, data = EXCLUDED.data", _run_row(run))

    async def get_run(self, run_id: str) -> Record | None:
        return await self._one("SELECT data FROM rillet_server_runs WHERE run_id = %s",
                               (run_id,))

    async def update_run(self, run_id: str, **fields: Any) -> Record | None:
        async with self.pipelined() as cur:
            await cur.execute("SELECT data FROM rillet_server_runs WHERE run_id = %s "
                              "FOR UPDATE", (run_id,))
            row = await cur.fetchone()
            if row is None:
                return None
            run: Record = {**_json.loads(row[0]), **fields}
            await cur.execute(f"UPDATE rillet_server_runs SET {_RUN_COLS} WHERE run_id = %s",
                              (*_run_row(run)[1:], run_id))
        return run

    async def list_runs(
        self, thread_id: str, *, status: str | None, limit: int, offset: int
    ) -> list[Record]:
        args: list[Any] = [thread_id]
        where = ["thread_id = %s"]
        if status is not None:
            where.append("status = %s")
            args.append(status)
        return await self._all(f"SELECT data FROM rillet_server_runs{_where(where)} "
                               "ORDER BY created_at DESC, run_id DESC LIMIT %s OFFSET %s",
                               [*args, limit, offset])

    async def unfinished_runs(self) -> list[Record]:
        return await self._all("SELECT data FROM rillet_server_runs WHERE status IN "
                               "('pending', 'running') ORDER BY created_at, run_id")

    async def delete_run(self, run_id: str) -> bool:
        async with self.transaction() as cur:
            await cur.execute("DELETE FROM rillet_server_runs WHERE run_id = %s", (run_id,))
            gone = cur.rowcount == 1
            await self._drop_logs(cur, [run_id])
        await self._drop_remote_logs([run_id])
        return gone

    # ------------------------------------------------------------ event logs
    async def append_events(self, run_id: str, events: Sequence[tuple[str, bytes]], *,
                            attempt: int | None = None) -> int:
        if self.events is not None:
            return await self.events.append(run_id, events, attempt=attempt)
        async with self.statement() as cur:
            await cur.execute(_APPEND, {"run": run_id, "n": len(events),
                                        "names": [name for name, _ in events],
                                        "datas": [bytes(data) for _, data in events]})
            row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def read_events(self, run_id: str, after: int = -1, limit: int = 1000) -> list[Event]:
        if self.events is not None:
            return list(await self.events.read(run_id, after, limit))
        async with self.statement() as cur:
            await cur.execute("SELECT seq, event, data FROM rillet_server_run_events "
                              "WHERE run_id = %s AND seq > %s ORDER BY seq LIMIT %s",
                              (run_id, after, limit))
            rows = await cur.fetchall()
        return [Event(int(seq), event, bytes(data)) for seq, event, data in rows]

    async def delete_event_logs(self, ended_before: float) -> int:
        """Delete the logs of runs ended before ``ended_before``; how many. With
        ``events=``, every such run's log not deleted yet counts (the remote log is not
        asked whether it had events)."""
        async with self.transaction() as cur:
            if self.events is None:
                have_log = ("EXISTS (SELECT 1 FROM rillet_server_run_events AS e "
                            "WHERE e.run_id = r.run_id)")
            else:
                have_log = "NOT r.log_deleted"
            await cur.execute(f"SELECT r.run_id FROM rillet_server_runs AS r WHERE "
                              f"r.ended_at < %s AND {have_log} FOR UPDATE OF r SKIP LOCKED",
                              (ended_before,))
            run_ids = [r[0] for r in await cur.fetchall()]
            if run_ids and self.events is not None:  # marked only once it is gone
                await self.events.delete(run_ids)
            await self._drop_logs(cur, run_ids)
            await cur.execute("UPDATE rillet_server_runs SET log_deleted = true "
                              "WHERE run_id = ANY(%s::text[])", (run_ids,))
        return len(run_ids)

    async def _drop_logs(self, cur: psycopg.AsyncCursor[Any], run_ids: list[str]) -> None:
        if run_ids and self.events is None:
            await cur.execute("DELETE FROM rillet_server_run_events "
                              "WHERE run_id = ANY(%s::text[])", (run_ids,))
            await cur.execute("DELETE FROM rillet_server_event_seqs "
                              "WHERE run_id = ANY(%s::text[])", (run_ids,))

    async def _drop_remote_logs(self, run_ids: list[str]) -> None:
        # after the commit: a failure here leaves a log without its run, never the reverse
        if run_ids and self.events is not None:
            await self.events.delete(run_ids)
