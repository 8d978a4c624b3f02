"""A checkpoint saver on PostgreSQL, with psycopg 3 (``pip install 'rillet[postgres]'``).

::

    with PostgresSaver.from_conn_string("postgresql://...") as saver:  # opens a pool
        ...

``PostgresSaver(conn)`` also takes a ``psycopg.Connection`` or a
``psycopg_pool.ConnectionPool`` of your own, in autocommit mode or not.

Made to run behind pgbouncer in transaction mode and in migrations tools:

- every primitive is ONE statement (data-modifying CTEs), so it is atomic by itself
  and costs one round trip; in a connection that is not in autocommit mode it runs in
  ``conn.transaction()`` (committed at its end unless you had a transaction open);
- no statement is ever prepared on the server (``prepare=False`` on each execute);
  connections this module opens also have ``prepare_threshold=None``, and yours
  should too, so that nothing else you run on them is prepared;
- no session state: :meth:`PostgresSaver.setup` takes a transaction-scoped advisory
  lock (``pg_advisory_xact_lock``), so processes starting at once are safe, and uses no
  ``CREATE INDEX CONCURRENTLY``, so it works in any transaction mode. It runs by
  itself on first use.

Tables (the ``rillet_`` prefix keeps them apart from LangGraph's): ``rillet_checkpoints``
(metadata and versions JSONB, state BYTEA), ``rillet_checkpoint_blobs``,
``rillet_checkpoint_writes``, ``rillet_migrations``. Text keys use ``COLLATE "C"`` so
that ids and namespaces sort as Python sorts them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Self

try:
    import psycopg
    from psycopg.rows import tuple_row
    from psycopg_pool import ConnectionPool
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "rillet.checkpoint.postgres needs psycopg 3 and psycopg-pool: "
        "pip install 'rillet[postgres]'"
    ) from exc

from rillet.checkpoint.base import (
    BaseCheckpointSaver,
    Blob,
    BlobKey,
    CheckpointRecord,
    PendingWrite,
    chains,
    check_bytes,
    check_write_bytes,
    clean_metadata,
    dedupe_writes,
    history_pages,
)

if TYPE_CHECKING:
    from rillet.checkpoint.serde import Serializer

__all__ = ["PostgresSaver"]

Stmt = tuple[str, dict[str, Any]]
CONNECT_KWARGS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}
"""How this module's pools open connections."""

_LOCK_KEY = 7_215_042_977_153_126_401  # pg_advisory_xact_lock key of setup()
_KEY = 'TEXT COLLATE "C" NOT NULL'
MIGRATIONS = [
    f"""CREATE TABLE IF NOT EXISTS rillet_checkpoints (
        thread_id {_KEY}, checkpoint_ns {_KEY} DEFAULT '', checkpoint_id {_KEY},
        parent_id TEXT COLLATE "C", created_at TEXT NOT NULL,
        metadata JSONB NOT NULL DEFAULT '{{}}', state BYTEA NOT NULL,
        versions JSONB NOT NULL DEFAULT '{{}}',
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id))""",
    """CREATE INDEX IF NOT EXISTS rillet_checkpoints_by_id
        ON rillet_checkpoints (thread_id, checkpoint_id)""",
    f"""CREATE TABLE IF NOT EXISTS rillet_checkpoint_blobs (
        thread_id {_KEY}, checkpoint_ns {_KEY}, channel {_KEY}, version {_KEY},
        base TEXT COLLATE "C", data BYTEA NOT NULL,
        PRIMARY KEY (thread_id, checkpoint_ns, channel, version))""",
    f"""CREATE TABLE IF NOT EXISTS rillet_checkpoint_writes (
        thread_id {_KEY}, checkpoint_ns {_KEY}, checkpoint_id {_KEY}, task_id {_KEY},
        idx INTEGER NOT NULL, channel TEXT NOT NULL, data BYTEA NOT NULL,
        task_path {_KEY} DEFAULT '',
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx))""",
]

_COLS = "thread_id, checkpoint_ns, checkpoint_id, parent_id, created_at, metadata, state, versions"
_SET_RECORD = ("parent_id = EXCLUDED.parent_id, created_at = EXCLUDED.created_at, "
               "metadata = EXCLUDED.metadata, state = EXCLUDED.state, versions = EXCLUDED.versions")
_WCOLS = "thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, data, task_path"
_SET_WRITE = "channel = EXCLUDED.channel, data = EXCLUDED.data, task_path = EXCLUDED.task_path"
_BCOLS = "thread_id, checkpoint_ns, channel, version, base, data"
_ORDER_W = "ORDER BY w.task_path, w.task_id, w.idx"


def setup_statements() -> Iterator[str | None]:
    """The statements of :meth:`PostgresSaver.setup`, in one transaction; ``None``
    stands for "run the pending migrations now" (the driver reads the version)."""
    yield f"SELECT pg_advisory_xact_lock({_LOCK_KEY})"
    yield "CREATE TABLE IF NOT EXISTS rillet_migrations (v INTEGER PRIMARY KEY)"
    yield None


def save_stmt(record: CheckpointRecord, blobs: Mapping[BlobKey, Blob]) -> Stmt:
    check_bytes(record, blobs)
    r = record
    sql = f"""
    WITH new_blobs AS (
        INSERT INTO rillet_checkpoint_blobs ({_BCOLS})
        SELECT %(t)s, %(ns)s, k.channel, k.version, k.base, k.data
        FROM unnest(%(channels)s::text[], %(versions)s::text[], %(bases)s::text[],
                    %(datas)s::bytea[]) AS k(channel, version, base, data)
        ON CONFLICT DO NOTHING)
    INSERT INTO rillet_checkpoints ({_COLS})
    VALUES (%(t)s, %(ns)s, %(id)s, %(parent)s, %(at)s, %(meta)s::jsonb, %(state)s, %(vers)s::jsonb)
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET {_SET_RECORD}"""
    return sql, {
        "t": r.thread_id, "ns": r.checkpoint_ns, "id": r.checkpoint_id, "parent": r.parent_id,
        "at": r.created_at, "meta": json.dumps(clean_metadata(r.metadata)), "state": r.state,
        "vers": json.dumps(r.versions), "channels": [c for c, _ in blobs],
        "versions": [v for _, v in blobs], "bases": [b.base for b in blobs.values()],
        "datas": [b.data for b in blobs.values()],
    }


def writes_stmt(
    thread_id: str, checkpoint_ns: str, checkpoint_id: str, writes: Sequence[PendingWrite]
) -> Stmt:
    check_write_bytes(writes)
    ws = dedupe_writes(writes)
    sql = f"""
    INSERT INTO rillet_checkpoint_writes ({_WCOLS})
    SELECT %(t)s, %(ns)s, %(id)s, w.task_id, w.idx, w.channel, w.data, w.task_path
    FROM unnest(%(tasks)s::text[], %(idxs)s::int[], %(channels)s::text[], %(datas)s::bytea[],
                %(paths)s::text[]) AS w(task_id, idx, channel, data, task_path)
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
    DO UPDATE SET {_SET_WRITE} WHERE EXCLUDED.idx < 0"""
    return sql, {
        "t": thread_id, "ns": checkpoint_ns, "id": checkpoint_id,
        "tasks": [w.task_id for w in ws], "idxs": [w.idx for w in ws],
        "channels": [w.channel for w in ws], "datas": [w.data for w in ws],
        "paths": [w.task_path for w in ws],
    }


def load_stmt(thread_id: str, checkpoint_ns: str, checkpoint_id: str | None) -> Stmt:
    pick = ("ORDER BY c.checkpoint_id DESC LIMIT 1" if checkpoint_id is None
            else "AND c.checkpoint_id = %(id)s")
    cols = ", ".join(f"c.{c}" for c in _COLS.split(", "))
    sql = f"""
    SELECT {cols}, w.tasks, w.idxs, w.channels, w.datas, w.paths
    FROM rillet_checkpoints AS c LEFT JOIN LATERAL (
        SELECT array_agg(w.task_id {_ORDER_W}) AS tasks, array_agg(w.idx {_ORDER_W}) AS idxs,
               array_agg(w.channel {_ORDER_W}) AS channels,
               array_agg(w.data {_ORDER_W}) AS datas, array_agg(w.task_path {_ORDER_W}) AS paths
        FROM rillet_checkpoint_writes AS w
        WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns
          AND w.checkpoint_id = c.checkpoint_id) AS w ON true
    WHERE c.thread_id = %(t)s AND c.checkpoint_ns = %(ns)s {pick}"""
    return sql, {"t": thread_id, "ns": checkpoint_ns, "id": checkpoint_id}


def parse_load(rows: list[tuple[Any, ...]]) -> tuple[CheckpointRecord, list[PendingWrite]] | None:
    if not rows:
        return None
    row = rows[0]
    tasks, idxs, channels, datas, paths = row[8:]
    writes = [PendingWrite(*w) for w in zip(tasks, idxs, channels, datas, paths, strict=True)
              ] if tasks else []
    return record(row[:8]), writes


def record(row: Sequence[Any]) -> CheckpointRecord:
    thread_id, ns, cid, parent, created, metadata, state, versions = row
    return CheckpointRecord(thread_id, ns, cid, parent, created, metadata, bytes(state), versions)


def blobs_stmt(thread_id: str, checkpoint_ns: str, keys: Sequence[BlobKey]) -> Stmt:
    sql = """
    WITH RECURSIVE chain(channel, version, depth, base, data) AS (
        SELECT b.channel, b.version, 0, b.base, b.data
        FROM unnest(%(channels)s::text[], %(versions)s::text[]) AS k(channel, version)
        JOIN rillet_checkpoint_blobs AS b
          ON b.thread_id = %(t)s AND b.checkpoint_ns = %(ns)s
         AND b.channel = k.channel AND b.version = k.version
        UNION ALL
        SELECT c.channel, c.version, c.depth + 1, b.base, b.data
        FROM chain AS c JOIN rillet_checkpoint_blobs AS b
          ON b.thread_id = %(t)s AND b.checkpoint_ns = %(ns)s
         AND b.channel = c.channel AND b.version = c.base
        WHERE c.depth < 100000)
    SELECT channel, version, base, data FROM chain ORDER BY channel, version, depth DESC"""
    return sql, {"t": thread_id, "ns": checkpoint_ns,
                 "channels": [c for c, _ in keys], "versions": [v for _, v in keys]}


def history_stmt(
    thread_id: str, checkpoint_ns: str | None, before: str | None,
    filter: Mapping[str, Any] | None, after: tuple[str, str] | None, limit: int | None,
) -> Stmt:
    where, params = ["thread_id = %(t)s"], {"t": thread_id, "ns": checkpoint_ns, "before": before}
    if checkpoint_ns is not None:
        where.append("checkpoint_ns = %(ns)s")
    if before is not None:
        where.append("checkpoint_id < %(before)s")
    if after is not None:
        where.append("(checkpoint_id, checkpoint_ns) < (%(after_id)s, %(after_ns)s)")
        params.update(after_id=after[0], after_ns=after[1])
    for i, (key, value) in enumerate(clean_metadata(filter or {}).items()):
        where.append(f"metadata -> %(k{i})s = %(v{i})s::jsonb")
        params.update({f"k{i}": key, f"v{i}": json.dumps(value)})
    sql = (f"SELECT {_COLS} FROM rillet_checkpoints WHERE {' AND '.join(where)} "
           "ORDER BY checkpoint_id DESC, checkpoint_ns DESC")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, params


def delete_stmt(thread_id: str) -> Stmt:
    sql = """
    WITH w AS (DELETE FROM rillet_checkpoint_writes WHERE thread_id = %(t)s),
         b AS (DELETE FROM rillet_checkpoint_blobs WHERE thread_id = %(t)s)
    DELETE FROM rillet_checkpoints WHERE thread_id = %(t)s"""
    return sql, {"t": thread_id}


def prune_stmt(thread_id: str, keep_last: int) -> Stmt:
    if keep_last < 0:
        raise ValueError(f"keep_last must be >= 0, got {keep_last}")
    sql = """
    WITH RECURSIVE ranked AS (
        SELECT checkpoint_ns, checkpoint_id, versions, row_number() OVER (
            PARTITION BY checkpoint_ns ORDER BY checkpoint_id DESC) AS rn
        FROM rillet_checkpoints WHERE thread_id = %(t)s),
    doomed AS (
        DELETE FROM rillet_checkpoints AS c USING ranked AS r
        WHERE c.thread_id = %(t)s AND c.checkpoint_ns = r.checkpoint_ns
          AND c.checkpoint_id = r.checkpoint_id AND r.rn > %(keep)s
        RETURNING c.checkpoint_ns, c.checkpoint_id),
    doomed_writes AS (
        DELETE FROM rillet_checkpoint_writes AS w USING doomed AS d
        WHERE w.thread_id = %(t)s AND w.checkpoint_ns = d.checkpoint_ns
          AND w.checkpoint_id = d.checkpoint_id),
    need(ns, channel, version) AS (
        SELECT r.checkpoint_ns, v.key COLLATE "C", v.value COLLATE "C"
        FROM ranked AS r CROSS JOIN LATERAL jsonb_each_text(r.versions) AS v
        WHERE r.rn <= %(keep)s
        UNION
        SELECT b.checkpoint_ns, b.channel, b.base FROM need AS n
        JOIN rillet_checkpoint_blobs AS b
          ON b.thread_id = %(t)s AND b.checkpoint_ns = n.ns AND b.channel = n.channel
         AND b.version = n.version
        WHERE b.base IS NOT NULL),
    doomed_blobs AS (
        DELETE FROM rillet_checkpoint_blobs AS b
        WHERE b.thread_id = %(t)s AND NOT EXISTS (
            SELECT 1 FROM need AS n
            WHERE n.ns = b.checkpoint_ns AND n.channel = b.channel AND n.version = b.version))
    SELECT count(*) FROM doomed"""
    return sql, {"t": thread_id, "keep": keep_last}


def delete_for_runs_stmt(thread_id: str, run_ids: Sequence[str]) -> Stmt:
    # Every CTE sees the rows as they were before the statement, so the records that
    # stay are named by the negated condition, not read back after the delete.
    theirs = ("jsonb_typeof(c.metadata -> 'run_id') = 'string' "
              "AND c.metadata ->> 'run_id' = ANY(%(runs)s::text[])")
    sql = f"""
    WITH RECURSIVE doomed AS (
        DELETE FROM rillet_checkpoints AS c WHERE c.thread_id = %(t)s AND {theirs}
        RETURNING c.checkpoint_ns, c.checkpoint_id),
    doomed_writes AS (
        DELETE FROM rillet_checkpoint_writes AS w USING doomed AS d
        WHERE w.thread_id = %(t)s AND w.checkpoint_ns = d.checkpoint_ns
          AND w.checkpoint_id = d.checkpoint_id),
    need(ns, channel, version) AS (
        SELECT c.checkpoint_ns, v.key COLLATE "C", v.value COLLATE "C"
        FROM rillet_checkpoints AS c CROSS JOIN LATERAL jsonb_each_text(c.versions) AS v
        WHERE c.thread_id = %(t)s AND ({theirs}) IS NOT TRUE
        UNION
        SELECT b.checkpoint_ns, b.channel, b.base FROM need AS n
        JOIN rillet_checkpoint_blobs AS b
          ON b.thread_id = %(t)s AND b.checkpoint_ns = n.ns AND b.channel = n.channel
         AND b.version = n.version
        WHERE b.base IS NOT NULL),
    doomed_blobs AS (
        DELETE FROM rillet_checkpoint_blobs AS b
        WHERE b.thread_id = %(t)s AND NOT EXISTS (
            SELECT 1 FROM need AS n
            WHERE n.ns = b.checkpoint_ns AND n.channel = b.channel AND n.version = b.version))
    SELECT count(*) FROM doomed"""
    return sql, {"t": thread_id, "runs": list(run_ids)}


def copy_stmt(source: str, target: str) -> Stmt:
    def copy(table: str, cols: str, key: str, sets: str) -> str:
        rest = cols.removeprefix("thread_id, ")
        return (f"INSERT INTO {table} ({cols}) SELECT %(dst)s, {rest} FROM {table} "
                f"WHERE thread_id = %(src)s ON CONFLICT ({key}) DO UPDATE SET {sets}")

    blobs = copy("rillet_checkpoint_blobs", _BCOLS, "thread_id, checkpoint_ns, channel, version",
                 "base = EXCLUDED.base, data = EXCLUDED.data")
    writes = copy("rillet_checkpoint_writes", _WCOLS,
                  "thread_id, checkpoint_ns, checkpoint_id, task_id, idx", _SET_WRITE)
    records = copy("rillet_checkpoints", _COLS, "thread_id, checkpoint_ns, checkpoint_id",
                   _SET_RECORD)
    return f"WITH b AS ({blobs}), w AS ({writes}) {records}", {"src": source, "dst": target}


class PostgresSaver(BaseCheckpointSaver):
    """Checkpoints in PostgreSQL; see the module doc."""

    def __init__(
        self, conn: psycopg.Connection[Any] | ConnectionPool[Any], *,
        serde: Serializer | None = None,
    ) -> None:
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = threading.Lock()  # one statement at a time on a single connection
        self.is_setup = False

    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string: str, *, max_size: int = 10) -> Iterator[Self]:
        """Open a pool of up to ``max_size`` connections to ``conn_string`` (autocommit,
        no prepared statements, checked before each use), yield a saver on it, close it."""
        with ConnectionPool(
            conn_string, min_size=1, max_size=max_size, kwargs=CONNECT_KWARGS,
            check=ConnectionPool.check_connection, open=True,
        ) as pool:
            yield cls(pool)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if isinstance(self.conn, ConnectionPool):
            with self.conn.connection() as conn:
                yield conn
        else:
            with self.lock:
                yield self.conn

    def setup(self) -> None:
        """Create or migrate the tables. Idempotent; every method runs it on first use."""
        with (
            self._connection() as conn, conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cur,
        ):
            for sql in setup_statements():
                if sql is not None:
                    cur.execute(sql, prepare=False)
                    continue
                cur.execute("SELECT coalesce(max(v), -1) FROM rillet_migrations", prepare=False)
                row = cur.fetchone()
                for v in range(row[0] + 1 if row else 0, len(MIGRATIONS)):
                    cur.execute(MIGRATIONS[v], prepare=False)
                    cur.execute("INSERT INTO rillet_migrations (v) VALUES (%s)", (v,),
                                prepare=False)
        self.is_setup = True

    def _run(self, stmt: Stmt) -> list[tuple[Any, ...]]:
        if not self.is_setup:
            self.setup()
        with self._connection() as conn, _atomic(conn), conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(stmt[0], stmt[1], prepare=False)
            return cur.fetchall() if cur.description else []

    def save(self, record: CheckpointRecord, blobs: Mapping[BlobKey, Blob]) -> None:
        self._run(save_stmt(record, blobs))

    def save_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str,
        writes: Sequence[PendingWrite],
    ) -> None:
        self._run(writes_stmt(thread_id, checkpoint_ns, checkpoint_id, writes))

    def load(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> tuple[CheckpointRecord, list[PendingWrite]] | None:
        return parse_load(self._run(load_stmt(thread_id, checkpoint_ns, checkpoint_id)))

    def load_blobs(
        self, thread_id: str, checkpoint_ns: str, keys: Sequence[BlobKey]
    ) -> dict[BlobKey, list[bytes]]:
        return chains(self._run(blobs_stmt(thread_id, checkpoint_ns, keys))) if keys else {}

    def history(
        self, thread_id: str, checkpoint_ns: str | None = "", *, before: str | None = None,
        limit: int | None = None, filter: Mapping[str, Any] | None = None,
    ) -> Iterator[CheckpointRecord]:
        def fetch(after: tuple[str, str] | None, size: int) -> list[CheckpointRecord]:
            stmt = history_stmt(thread_id, checkpoint_ns, before, filter, after, size)
            return [record(row) for row in self._run(stmt)]

        return history_pages(fetch, limit, None)

    def delete_thread(self, thread_id: str) -> None:
        self._run(delete_stmt(thread_id))

    def prune(self, thread_id: str, keep_last: int) -> int:
        return int(self._run(prune_stmt(thread_id, keep_last))[0][0])

    def delete_for_runs(self, thread_id: str, run_ids: Sequence[str]) -> int:
        if not run_ids:
            return 0
        return int(self._run(delete_for_runs_stmt(thread_id, run_ids))[0][0])

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._run(copy_stmt(source_thread_id, target_thread_id))


def _atomic(conn: psycopg.Connection[Any]) -> AbstractContextManager[Any]:
    # One statement is atomic by itself in autocommit mode; otherwise commit it (or
    # make it a savepoint of the caller's open transaction).
    return nullcontext() if conn.autocommit else conn.transaction()
