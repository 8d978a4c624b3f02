"""A checkpoint saver on one SQLite file, with the standard library's ``sqlite3``.

Several threads may share a saver (a lock serializes them) and several processes may
use one file at once: the file is put in WAL mode, every write runs in a
``BEGIN IMMEDIATE`` transaction (it takes the write lock up front, so two writers never
deadlock upgrading a read lock), and :meth:`SqliteSaver.from_conn_string` opens the
connection with a 30 s busy timeout, so a writer waits for another instead of failing
with "database is locked". A connection you open yourself keeps its own ``timeout``
(``sqlite3.connect``'s default is 5 s) and must be opened with
``check_same_thread=False`` if other threads (or the async face) use it.

**Durability.** ``from_conn_string`` also sets ``PRAGMA synchronous=NORMAL``: in WAL
mode a commit then writes the log without waiting for the disk (an fsync took longer
than a whole step). Every save is still one transaction, and a crash of the process
loses nothing; a power loss or OS crash can roll back the last few checkpoints, never
leave a half-written one or corrupt the file. For an fsync on every checkpoint, open
the connection yourself and run ``PRAGMA synchronous=FULL`` on it.

Tables (created by :meth:`SqliteSaver.setup`, which runs by itself on first use):
``rillet_checkpoints``, ``rillet_checkpoint_blobs``, ``rillet_checkpoint_writes`` and
``rillet_migrations``; the ``rillet_`` prefix keeps them apart from LangGraph's tables
in a file both use.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self

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
from rillet.errors import UsageError

if TYPE_CHECKING:
    from rillet.checkpoint.serde import Serializer

__all__ = ["SqliteSaver"]

MIGRATIONS = [
    """CREATE TABLE rillet_checkpoints (
        thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL DEFAULT '',
        checkpoint_id TEXT NOT NULL, parent_id TEXT, created_at TEXT NOT NULL,
        metadata TEXT NOT NULL, state BLOB NOT NULL, versions TEXT NOT NULL,
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)) WITHOUT ROWID""",
    """CREATE INDEX rillet_checkpoints_by_id ON rillet_checkpoints (thread_id, checkpoint_id)""",
    """CREATE TABLE rillet_checkpoint_blobs (
        thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL, channel TEXT NOT NULL,
        version TEXT NOT NULL, base TEXT, data BLOB NOT NULL,
        PRIMARY KEY (thread_id, checkpoint_ns, channel, version)) WITHOUT ROWID""",
    """CREATE TABLE rillet_checkpoint_writes (
        thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL, checkpoint_id TEXT NOT NULL,
        task_id TEXT NOT NULL, idx INTEGER NOT NULL, channel TEXT NOT NULL,
        data BLOB NOT NULL, task_path TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)) WITHOUT ROWID""",
]

_COLUMNS = (
    "thread_id, checkpoint_ns, checkpoint_id, parent_id, created_at, metadata, state, versions"
)
_MAX_CHAIN = 100_000  # a longer chain is taken for a cycle: the key is reported missing
_json = json.JSONEncoder(separators=(",", ":")).encode  # compact: smaller rows

_LOAD_BLOBS = f"""
WITH RECURSIVE chain(channel, version, depth, base, data) AS (
    SELECT b.channel, b.version, 0, b.base, b.data
    FROM json_each(?3) AS k JOIN rillet_checkpoint_blobs AS b
      ON b.thread_id = ?1 AND b.checkpoint_ns = ?2
     AND b.channel = json_extract(k.value, '$[0]') AND b.version = json_extract(k.value, '$[1]')
    UNION ALL
    SELECT c.channel, c.version, c.depth + 1, b.base, b.data
    FROM chain AS c JOIN rillet_checkpoint_blobs AS b
      ON b.thread_id = ?1 AND b.checkpoint_ns = ?2 AND b.channel = c.channel
     AND b.version = c.base
    WHERE c.depth < {_MAX_CHAIN}
)
SELECT channel, version, base, data FROM chain ORDER BY channel, version, depth DESC
"""

_DOOMED = """
WITH ranked AS (
    SELECT checkpoint_ns, checkpoint_id, row_number() OVER (
        PARTITION BY checkpoint_ns ORDER BY checkpoint_id DESC) AS rn
    FROM rillet_checkpoints WHERE thread_id = ?1)
DELETE FROM {table} WHERE thread_id = ?1 AND (checkpoint_ns, checkpoint_id) IN (
    SELECT checkpoint_ns, checkpoint_id FROM ranked WHERE rn > ?2)
"""

_UNNEEDED_BLOBS = """
WITH RECURSIVE need(ns, channel, version) AS (
    SELECT c.checkpoint_ns, v.key, v.value
    FROM rillet_checkpoints AS c, json_each(c.versions) AS v WHERE c.thread_id = ?1
    UNION
    SELECT b.checkpoint_ns, b.channel, b.base FROM need AS n JOIN rillet_checkpoint_blobs AS b
      ON b.thread_id = ?1 AND b.checkpoint_ns = n.ns AND b.channel = n.channel
     AND b.version = n.version
    WHERE b.base IS NOT NULL)
DELETE FROM rillet_checkpoint_blobs WHERE thread_id = ?1
  AND (checkpoint_ns, channel, version) NOT IN (SELECT ns, channel, version FROM need)
"""

_COPY = {
    "rillet_checkpoints": _COLUMNS,
    "rillet_checkpoint_blobs": "thread_id, checkpoint_ns, channel, version, base, data",
    "rillet_checkpoint_writes":
        "thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, data, task_path",
}


def _record(row: Any) -> CheckpointRecord:
    thread_id, ns, cid, parent, created, metadata, state, versions = row
    return CheckpointRecord(
        thread_id, ns, cid, parent, created, json.loads(metadata), bytes(state),
        json.loads(versions),
    )


class _SqliteBase(BaseCheckpointSaver):
    """What :class:`SqliteSaver` and ``AsyncSqliteSaver`` share: every primitive."""

    def __init__(self, conn: sqlite3.Connection, *, serde: Serializer | None = None) -> None:
        if not isinstance(conn, sqlite3.Connection):
            raise UsageError(
                f"{type(self).__name__} takes a sqlite3.Connection (opened with "
                f"check_same_thread=False), not {type(conn).__name__}; rillet does not use "
                "aiosqlite"
            )
        if getattr(conn, "autocommit", None) is False:
            raise UsageError(
                f"{type(self).__name__} runs its own transactions: open the connection "
                "with autocommit left at its default"
            )
        super().__init__(serde=serde)
        self.conn = conn
        self.lock = threading.Lock()
        self.is_setup = False

    def _setup(self) -> None:
        """Create or migrate the tables; idempotent, and safe from several processes."""
        with self.lock:
            self._setup_locked()

    def _setup_locked(self) -> None:
        if self.is_setup:
            return
        # Switching to WAL needs the file to itself, and SQLite answers "locked" at once
        # (no busy wait) when that could deadlock with another process starting up.
        deadline = time.monotonic() + 30
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS rillet_migrations (v INTEGER PRIMARY KEY)"
            )
            (done,) = self.conn.execute(
                "SELECT coalesce(max(v), -1) FROM rillet_migrations"
            ).fetchone()
            for v in range(done + 1, len(MIGRATIONS)):
                self.conn.execute(MIGRATIONS[v])
                self.conn.execute("INSERT INTO rillet_migrations (v) VALUES (?)", (v,))
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()
        self.is_setup = True

    @contextmanager
    def _tx(self, write: bool) -> Iterator[sqlite3.Cursor]:
        with self.lock:
            try:
                self._setup_locked()
                cur = self.conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.ProgrammingError as exc:
                if "thread" in str(exc):
                    raise UsageError(
                        f"{exc}; open the connection with check_same_thread=False to share "
                        f"it with {type(self).__name__}'s threads"
                    ) from exc
                raise
            try:
                yield cur
            except BaseException:
                self.conn.rollback()
                raise
            finally:
                cur.close()
            self.conn.commit()

    def save(self, record: CheckpointRecord, blobs: Mapping[BlobKey, Blob]) -> None:
        check_bytes(record, blobs)
        r = record
        row = (r.thread_id, r.checkpoint_ns, r.checkpoint_id, r.parent_id, r.created_at,
               _json(clean_metadata(r.metadata)), r.state, _json(r.versions))
        with self._tx(write=True) as cur:
            if blobs:
                cur.executemany(
                    "INSERT OR IGNORE INTO rillet_checkpoint_blobs (thread_id, checkpoint_ns, "
                    "channel, version, base, data) VALUES (?,?,?,?,?,?)",
                    [(r.thread_id, r.checkpoint_ns, c, v, b.base, b.data)
                     for (c, v), b in blobs.items()],
                )
            cur.execute(
                f"INSERT OR REPLACE INTO rillet_checkpoints ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                row,
            )

    def save_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str,
        writes: Sequence[PendingWrite],
    ) -> None:
        check_write_bytes(writes)
        with self._tx(write=True) as cur:
            cur.executemany(
                "INSERT INTO rillet_checkpoint_writes (thread_id, checkpoint_ns, checkpoint_id, "
                "task_id, idx, channel, data, task_path) VALUES (?,?,?,?,?,?,?,?) "
                "ON CONFLICT DO UPDATE SET channel = excluded.channel, data = excluded.data, "
                "task_path = excluded.task_path WHERE excluded.idx < 0",
                [(thread_id, checkpoint_ns, checkpoint_id, w.task_id, w.idx, w.channel, w.data,
                  w.task_path) for w in dedupe_writes(writes)],
            )

    def load(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> tuple[CheckpointRecord, list[PendingWrite]] | None:
        where = "thread_id = ? AND checkpoint_ns = ?"
        with self._tx(write=False) as cur:
            if checkpoint_id is None:
                cur.execute(f"SELECT {_COLUMNS} FROM rillet_checkpoints WHERE {where} "
                            "ORDER BY checkpoint_id DESC LIMIT 1", (thread_id, checkpoint_ns))
            else:
                cur.execute(f"SELECT {_COLUMNS} FROM rillet_checkpoints WHERE {where} "
                            "AND checkpoint_id = ?", (thread_id, checkpoint_ns, checkpoint_id))
            row = cur.fetchone()
            if row is None:
                return None
            record = _record(row)
            cur.execute(
                "SELECT task_id, idx, channel, data, task_path FROM rillet_checkpoint_writes "
                f"WHERE {where} AND checkpoint_id = ? ORDER BY task_path, task_id, idx",
                (thread_id, checkpoint_ns, record.checkpoint_id),
            )
            writes = [PendingWrite(t, i, c, bytes(d), p) for t, i, c, d, p in cur.fetchall()]
        return record, writes

    def load_blobs(
        self, thread_id: str, checkpoint_ns: str, keys: Sequence[BlobKey]
    ) -> dict[BlobKey, list[bytes]]:
        if not keys:
            return {}
        with self._tx(write=False) as cur:
            keys_json = json.dumps([list(k) for k in keys])
            cur.execute(_LOAD_BLOBS, (thread_id, checkpoint_ns, keys_json))
            return chains(cur.fetchall())

    def history(
        self, thread_id: str, checkpoint_ns: str | None = "", *, before: str | None = None,
        limit: int | None = None, filter: Mapping[str, Any] | None = None,
    ) -> Iterator[CheckpointRecord]:
        def fetch(after: tuple[str, str] | None, size: int) -> list[CheckpointRecord]:
            where, params = ["thread_id = ?"], [thread_id]
            if checkpoint_ns is not None:
                where.append("checkpoint_ns = ?")
                params.append(checkpoint_ns)
            if before is not None:
                where.append("checkpoint_id < ?")
                params.append(before)
            if after is not None:
                where.append("(checkpoint_id, checkpoint_ns) < (?, ?)")
                params.extend(after)
            with self._tx(write=False) as cur:
                cur.execute(
                    f"SELECT {_COLUMNS} FROM rillet_checkpoints WHERE {' AND '.join(where)} "
                    f"ORDER BY checkpoint_id DESC, checkpoint_ns DESC LIMIT {int(size)}", params
                )
                return [_record(row) for row in cur.fetchall()]

        return history_pages(fetch, limit, filter)

    def delete_thread(self, thread_id: str) -> None:
        with self._tx(write=True) as cur:
            for table in _COPY:
                cur.execute(f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,))

    def prune(self, thread_id: str, keep_last: int) -> int:
        if keep_last < 0:
            raise ValueError(f"keep_last must be >= 0, got {keep_last}")
        with self._tx(write=True) as cur:
            cur.execute(_DOOMED.format(table="rillet_checkpoint_writes"), (thread_id, keep_last))
            cur.execute(_DOOMED.format(table="rillet_checkpoints"), (thread_id, keep_last))
            # rowcount is -1 for a statement that starts with WITH
            (deleted,) = cur.execute("SELECT changes()").fetchone()
            cur.execute(_UNNEEDED_BLOBS, (thread_id,))
        return int(deleted)

    def delete_for_runs(self, thread_id: str, run_ids: Sequence[str]) -> int:
        """Delete the thread's records written by the given runs (metadata ``run_id``),
        in every namespace, with their writes and the blobs no other record needs; how
        many records were deleted. (A SQLite extra, not a saver primitive: the server's
        ``multitask_strategy="rollback"`` uses it, as LangGraph's uses its
        ``delete_for_runs``.)"""
        if not run_ids:
            return 0
        marks = ", ".join("?" * len(run_ids))
        theirs = (f"thread_id = ? AND (checkpoint_ns, checkpoint_id) IN (SELECT checkpoint_ns, "
                  f"checkpoint_id FROM rillet_checkpoints WHERE thread_id = ? AND "
                  f"json_extract(metadata, '$.run_id') IN ({marks}))")
        args = (thread_id, thread_id, *run_ids)
        with self._tx(write=True) as cur:
            cur.execute(f"DELETE FROM rillet_checkpoint_writes WHERE {theirs}", args)
            cur.execute(f"DELETE FROM rillet_checkpoints WHERE {theirs}", args)
            (deleted,) = cur.execute("SELECT changes()").fetchone()
            cur.execute(_UNNEEDED_BLOBS, (thread_id,))
        return int(deleted)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        with self._tx(write=True) as cur:
            for table, columns in _COPY.items():
                rest = columns.removeprefix("thread_id, ")
                cur.execute(
                    f"INSERT OR REPLACE INTO {table} ({columns}) "
                    f"SELECT ?, {rest} FROM {table} WHERE thread_id = ?",
                    (target_thread_id, source_thread_id),
                )


class SqliteSaver(_SqliteBase):
    """Checkpoints in a SQLite database; see the module doc.

    ``SqliteSaver(sqlite3.connect("file.db", check_same_thread=False))``, or::

        with SqliteSaver.from_conn_string("file.db") as saver:   # or ":memory:"
            ...
    """

    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string: str) -> Iterator[Self]:
        """Open ``conn_string`` (a path, ``":memory:"`` or a ``file:`` URI), yield a
        saver on it, and close the connection at the end."""
        conn = connect(conn_string)
        try:
            yield cls(conn)
        finally:
            conn.close()

    def setup(self) -> None:
        """Create the tables if needed. Idempotent; every method runs it on first use."""
        self._setup()


def connect(conn_string: str) -> sqlite3.Connection:
    """A connection as the savers want it: shareable across threads, autocommit (the
    saver begins its own transactions), a 30 s busy timeout, ``synchronous=NORMAL``."""
    conn = sqlite3.connect(
        conn_string, timeout=30.0, isolation_level=None, check_same_thread=False,
        uri=conn_string.startswith("file:"),
    )
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn
