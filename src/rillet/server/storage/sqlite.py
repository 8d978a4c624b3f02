"""The embedded default storage: one SQLite file (``server.sqlite`` in the data dir).

Each record is a row holding its JSON plus the columns searches sort and filter on;
metadata filters are applied to the decoded rows (enough for one machine's threads;
a server backend would index them). One connection in WAL mode with
``synchronous=NORMAL``: every call is one short transaction, made inline on the
event loop (each takes microseconds; a burst of events is one transaction), and a
crash of the process loses nothing committed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rillet.checkpoint.base import json_equal
from rillet.server import _json
from rillet.server.storage.base import Event, Record, Storage, version_of

__all__ = ["SqliteStorage"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS assistants (assistant_id TEXT PRIMARY KEY, graph_id TEXT,
        created_at TEXT, data BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS threads (thread_id TEXT PRIMARY KEY, status TEXT,
        created_at TEXT, updated_at TEXT, data BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, thread_id TEXT,
        status TEXT, created_at TEXT, data BLOB NOT NULL, ended_at REAL)""",
    """CREATE TABLE IF NOT EXISTS assistant_versions (assistant_id TEXT NOT NULL,
        version INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (assistant_id, version))""",
    "CREATE INDEX IF NOT EXISTS runs_by_thread ON runs (thread_id, created_at)",
    """CREATE TABLE IF NOT EXISTS run_events (run_id TEXT NOT NULL, seq INTEGER NOT NULL,
        event TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID""",
)
_AFTER_SCHEMA = (
    "CREATE INDEX IF NOT EXISTS runs_by_end ON runs (ended_at) WHERE ended_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, created_at)",
)
_THREAD_SORT = frozenset({"thread_id", "status", "created_at", "updated_at"})


def _matches(record: Record, metadata: dict[str, Any] | None) -> bool:
    return _holds(record.get("metadata") or {}, metadata)


def _holds(values: Any, wanted: dict[str, Any] | None) -> bool:
    # JSON equality per key (``true`` is not ``1``); a missing key equals ``None``
    if not wanted:
        return True
    return isinstance(values, dict) and all(json_equal(values.get(k), v)
                                            for k, v in wanted.items())


class SqliteStorage(Storage):
    """Storage in the SQLite file at ``path`` (``":memory:"`` for a throwaway one)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._next_seq: dict[str, int] = {}

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("SqliteStorage used before setup()")
        return self._conn

    async def setup(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            conn.execute(statement)
        columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
        if "ended_at" not in columns:  # a data dir from before log retention
            conn.execute("ALTER TABLE runs ADD COLUMN ended_at REAL")
        for statement in _AFTER_SCHEMA:
            conn.execute(statement)
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _one(self, sql: str, args: tuple[Any, ...]) -> Record | None:
        with self._lock:
            row = self.conn.execute(sql, args).fetchone()
        return _json.loads(row[0]) if row else None

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[Record]:
        with self._lock:
            rows = self.conn.execute(sql, args).fetchall()
        return [_json.loads(row[0]) for row in rows]

    def _run(self, sql: str, args: tuple[Any, ...]) -> int:
        with self._lock:
            return self.conn.execute(sql, args).rowcount

    # ------------------------------------------------------------ assistants
    async def put_assistant(self, assistant: Record) -> None:
        self._run(
            "INSERT OR REPLACE INTO assistants VALUES (?, ?, ?, ?)",
            (assistant["assistant_id"], assistant["graph_id"], assistant["created_at"],
             _json.dumps(assistant)),
        )

    async def get_assistant(self, assistant_id: str) -> Record | None:
        return self._one("SELECT data FROM assistants WHERE assistant_id = ?", (assistant_id,))

    async def search_assistants(
        self, *, graph_id: str | None, metadata: dict[str, Any] | None, limit: int, offset: int,
        name: str | None = None,
    ) -> tuple[list[Record], int]:
        rows = self._all("SELECT data FROM assistants ORDER BY created_at DESC, assistant_id")
        found = [r for r in rows
                 if (graph_id is None or r["graph_id"] == graph_id) and _matches(r, metadata)
                 and (name is None or name in (r.get("name") or ""))]
        return found[offset : offset + limit], len(found)

    async def create_assistant(self, assistant: Record) -> bool:
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                made = conn.execute(
                    "INSERT OR IGNORE INTO assistants VALUES (?, ?, ?, ?)",
                    (assistant["assistant_id"], assistant["graph_id"], assistant["created_at"],
                     _json.dumps(assistant)),
                ).rowcount == 1
                if made:
                    conn.execute("INSERT OR REPLACE INTO assistant_versions VALUES (?, ?, ?)",
                                 (assistant["assistant_id"], assistant["version"],
                                  _json.dumps(version_of(assistant))))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return made

    async def delete_assistant(self, assistant_id: str) -> bool:
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                gone = conn.execute("DELETE FROM assistants WHERE assistant_id = ?",
                                    (assistant_id,)).rowcount
                conn.execute("DELETE FROM assistant_versions WHERE assistant_id = ?",
                             (assistant_id,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return gone == 1

    async def put_assistant_version(self, version: Record) -> None:
        self._run("INSERT OR REPLACE INTO assistant_versions VALUES (?, ?, ?)",
                  (version["assistant_id"], version["version"], _json.dumps(version)))

    async def get_assistant_version(self, assistant_id: str, version: int) -> Record | None:
        return self._one(
            "SELECT data FROM assistant_versions WHERE assistant_id = ? AND version = ?",
            (assistant_id, version),
        )

    async def list_assistant_versions(
        self, assistant_id: str, *, metadata: dict[str, Any] | None, limit: int, offset: int
    ) -> list[Record]:
        rows = self._all("SELECT data FROM assistant_versions WHERE assistant_id = ? "
                         "ORDER BY version DESC", (assistant_id,))
        return [r for r in rows if _matches(r, metadata)][offset : offset + limit]

    # ------------------------------------------------------------ threads
    async def create_thread(self, thread: Record) -> bool:
        return self._run(
            "INSERT OR IGNORE INTO threads VALUES (?, ?, ?, ?, ?)",
            (thread["thread_id"], thread["status"], thread["created_at"], thread["updated_at"],
             _json.dumps(thread)),
        ) == 1

    async def get_thread(self, thread_id: str) -> Record | None:
        return self._one("SELECT data FROM threads WHERE thread_id = ?", (thread_id,))

    async def update_thread(self, thread_id: str, **fields: Any) -> Record | None:
        with self._lock:
            row = self.conn.execute(
                "SELECT data FROM threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            if row is None:
                return None
            thread: Record = {**_json.loads(row[0]), **fields}
            self.conn.execute(
                "UPDATE threads SET status = ?, updated_at = ?, data = ? WHERE thread_id = ?",
                (thread["status"], thread["updated_at"], _json.dumps(thread), thread_id),
            )
        return thread

    async def delete_thread(self, thread_id: str, *, runs: bool = True) -> bool:
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                gone = conn.execute(
                    "DELETE FROM threads WHERE thread_id = ?", (thread_id,)
                ).rowcount
                if runs:
                    conn.execute(
                        "DELETE FROM run_events WHERE run_id IN "
                        "(SELECT run_id FROM runs WHERE thread_id = ?)", (thread_id,),
                    )
                    conn.execute("DELETE FROM runs WHERE thread_id = ?", (thread_id,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return gone == 1

    async def search_threads(
        self, *, metadata: dict[str, Any] | None, status: str | None,
        ids: list[str] | None, limit: int, offset: int, sort_by: str, sort_order: str,
        values: dict[str, Any] | None = None,
    ) -> tuple[list[Record], int]:
        column = sort_by if sort_by in _THREAD_SORT else "created_at"
        order = "ASC" if sort_order.lower() == "asc" else "DESC"
        rows = self._all(f"SELECT data FROM threads ORDER BY {column} {order}, thread_id {order}")
        if sort_by == "state_updated_at":  # not a column: sorted on the decoded rows
            rows.sort(key=lambda r: (r.get("state_updated_at") or "", r["thread_id"]),
                      reverse=order == "DESC")
        wanted = set(ids) if ids else None
        found = [r for r in rows
                 if (status is None or r["status"] == status)
                 and (wanted is None or r["thread_id"] in wanted) and _matches(r, metadata)
                 and _holds(r.get("values"), values)]
        return found[offset : offset + limit], len(found)

    # ------------------------------------------------------------ runs
    async def put_run(self, run: Record) -> None:
        self._run(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?)",
            (run["run_id"], run["thread_id"], run["status"], run["created_at"],
             _json.dumps(run), run.get("_ended_at")),
        )

    async def get_run(self, run_id: str) -> Record | None:
        return self._one("SELECT data FROM runs WHERE run_id = ?", (run_id,))

    async def update_run(self, run_id: str, **fields: Any) -> Record | None:
        with self._lock:
            row = self.conn.execute("SELECT data FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                return None
            run: Record = {**_json.loads(row[0]), **fields}
            self.conn.execute(
                "UPDATE runs SET status = ?, data = ?, ended_at = ? WHERE run_id = ?",
                (run["status"], _json.dumps(run), run.get("_ended_at"), run_id),
            )
        return run

    async def list_runs(
        self, thread_id: str, *, status: str | None, limit: int, offset: int
    ) -> list[Record]:
        if status is None:
            return self._all(
                "SELECT data FROM runs WHERE thread_id = ? ORDER BY created_at DESC, run_id DESC "
                "LIMIT ? OFFSET ?", (thread_id, limit, offset),
            )
        return self._all(
            "SELECT data FROM runs WHERE thread_id = ? AND status = ? "
            "ORDER BY created_at DESC, run_id DESC LIMIT ? OFFSET ?",
            (thread_id, status, limit, offset),
        )

    async def unfinished_runs(self) -> list[Record]:
        return self._all(
            "SELECT data FROM runs WHERE status IN ('pending', 'running') "
            "ORDER BY created_at, run_id"
        )

    # ------------------------------------------------------------ event logs
    async def append_events(self, run_id: str, events: Sequence[tuple[str, bytes]], *,
                            attempt: int | None = None) -> int:
        with self._lock:
            conn = self.conn
            first = self._next_seq.get(run_id)
            if first is None:
                row = conn.execute(
                    "SELECT MAX(seq) FROM run_events WHERE run_id = ?", (run_id,)
                ).fetchone()
                first = 0 if row[0] is None else row[0] + 1
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO run_events VALUES (?, ?, ?, ?)",
                    [(run_id, seq, event, data)
                     for seq, (event, data) in enumerate(events, first)],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._next_seq[run_id] = first + len(events)
        return first

    async def read_events(self, run_id: str, after: int = -1, limit: int = 1000) -> list[Event]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT seq, event, data FROM run_events WHERE run_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?", (run_id, after, limit),
            ).fetchall()
        return [Event(seq, event, data) for seq, event, data in rows]

    async def delete_event_logs(self, ended_before: float) -> int:
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [row[0] for row in conn.execute(
                    "SELECT run_id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ? "
                    "AND EXISTS (SELECT 1 FROM run_events e WHERE e.run_id = runs.run_id)",
                    (ended_before,),
                )]
                conn.executemany("DELETE FROM run_events WHERE run_id = ?",
                                 [(run_id,) for run_id in ids])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            for run_id in ids:
                self._next_seq.pop(run_id, None)
        return len(ids)

    # ------------------------------------------------------------ counts, deletes
    async def count_threads(
        self, *, metadata: dict[str, Any] | None, values: dict[str, Any] | None,
        status: str | None,
    ) -> int:
        rows = self._all("SELECT data FROM threads")
        return sum(1 for r in rows if (status is None or r["status"] == status)
                   and _matches(r, metadata) and _holds(r.get("values"), values))

    async def delete_run(self, run_id: str) -> bool:
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM run_events WHERE run_id = ?", (run_id,))
                gone = conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._next_seq.pop(run_id, None)
        return gone == 1
