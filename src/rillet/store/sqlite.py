"""``SqliteStore``: the store in one SQLite table (stdlib ``sqlite3``).

Schema (created by :meth:`SqliteStore.setup`)::

    store_items(seq INTEGER PRIMARY KEY AUTOINCREMENT,   -- order of first write
                prefix TEXT, key TEXT, UNIQUE(prefix, key), -- namespace joined by "."
                value TEXT,     -- JSON
                vectors TEXT,   -- JSON {field: [floats]} or NULL
                created_at TEXT, updated_at TEXT, expires_at TEXT,  -- ISO 8601, UTC
                ttl_minutes REAL)

Each batch runs in one ``BEGIN IMMEDIATE`` transaction under a lock, so one store may
be shared by threads (give your own connection ``check_same_thread=False``) and several
processes may use one file (WAL, and a busy timeout waits out their writes).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from rillet.errors import ConfigError
from rillet.store.base import IndexConfig, TTLConfig
from rillet.store.base._engine import EngineStore, Namespace, Row, Tx

__all__ = ["SqliteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    prefix TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    vectors TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT,
    ttl_minutes REAL,
    UNIQUE (prefix, key)
);
CREATE INDEX IF NOT EXISTS store_items_expires_at ON store_items (expires_at)
    WHERE expires_at IS NOT NULL;
"""
_COLUMNS = "seq, prefix, key, value, vectors, created_at, updated_at, expires_at, ttl_minutes"
_LIVE = "(expires_at IS NULL OR expires_at > ?)"


class SqliteStore(EngineStore):
    """A store in a SQLite database. Call :meth:`setup` once before first use."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> None:
        super().__init__(index=index, ttl=ttl)
        self.conn = conn

    @classmethod
    @contextlib.contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
    ) -> Iterator[SqliteStore]:
        """A store on the database file ``conn_string`` (or ``":memory:"``), closed on exit."""
        conn = sqlite3.connect(
            conn_string, timeout=30.0, check_same_thread=False, isolation_level=None
        )
        try:
            yield cls(conn, index=index, ttl=ttl)
        finally:
            conn.close()

    def setup(self) -> None:
        """Create the table and index if missing, and switch the file to WAL. Safe to
        run again, and from several processes at once."""
        with self._lock:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Tx]:
        with self._lock:
            began = not self.conn.in_transaction
            try:
                if began:
                    self.conn.execute("BEGIN IMMEDIATE")
                yield _SqliteTx(self.conn)
                if began:
                    self.conn.commit()
            except sqlite3.OperationalError as exc:
                self._rollback(began)
                if "no such table" in str(exc):
                    raise ConfigError(
                        "The store's table does not exist: call store.setup() once first."
                    ) from exc
                raise
            except BaseException:
                self._rollback(began)
                raise

    def _rollback(self, began: bool) -> None:
        if began and self.conn.in_transaction:
            self.conn.rollback()


def _time(value: datetime | None) -> str | None:
    # One fixed format, so text order is time order and SQL can compare expiry.
    return value.astimezone(UTC).isoformat(timespec="microseconds") if value else None


def _prefix_clause(prefix: Namespace) -> tuple[str, list[Any]]:
    if not prefix:
        return "1", []
    text = ".".join(prefix)
    # "/" sorts right after ".", so the range holds exactly the names under text + ".".
    return "(prefix = ? OR (prefix >= ? AND prefix < ?))", [text, text + ".", text + "/"]


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, namespace: Namespace, key: str, now: datetime) -> Row | None:
        rows = self._select("prefix = ? AND key = ?", [".".join(namespace), key], now)
        return rows[0] if rows else None

    def scan(self, prefix: Namespace, now: datetime) -> list[Row]:
        clause, params = _prefix_clause(prefix)
        return self._select(clause, params, now)

    def namespaces(self, prefix: Namespace, now: datetime) -> list[Namespace]:
        clause, params = _prefix_clause(prefix)
        cursor = self._conn.execute(
            f"SELECT DISTINCT prefix FROM store_items WHERE {clause} AND {_LIVE}",
            [*params, _time(now)],
        )
        return [tuple(text.split(".")) for (text,) in cursor]

    def upsert(self, rows: list[Row]) -> None:
        self._conn.executemany(
            "INSERT INTO store_items (prefix, key, value, vectors, created_at, updated_at,"
            " expires_at, ttl_minutes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value,"
            " vectors = excluded.vectors, updated_at = excluded.updated_at,"
            " expires_at = excluded.expires_at, ttl_minutes = excluded.ttl_minutes",
            [
                (
                    ".".join(r.namespace), r.key, json.dumps(r.value),
                    None if r.vectors is None else json.dumps(r.vectors),
                    _time(r.created_at), _time(r.updated_at), _time(r.expires_at),
                    r.ttl_minutes,
                )
                for r in rows
            ],
        )

    def delete(self, keys: list[tuple[Namespace, str]]) -> None:
        self._conn.executemany(
            "DELETE FROM store_items WHERE prefix = ? AND key = ?",
            [(".".join(ns), key) for ns, key in keys],
        )

    def refresh(self, keys: list[tuple[Namespace, str]], now: datetime) -> None:
        # julianday arithmetic would lose microseconds; compute each expiry in Python.
        for namespace, key in keys:
            row = self.get(namespace, key, now)
            if row is not None and row.ttl_minutes is not None:
                self._conn.execute(
                    "UPDATE store_items SET expires_at = ? WHERE prefix = ? AND key = ?",
                    (_time(now + timedelta(minutes=row.ttl_minutes)), ".".join(namespace), key),
                )

    def sweep(self, now: datetime) -> int:
        cursor = self._conn.execute(
            "DELETE FROM store_items WHERE expires_at IS NOT NULL AND expires_at <= ?",
            (_time(now),),
        )
        return cursor.rowcount

    def _select(self, clause: str, params: list[Any], now: datetime) -> list[Row]:
        cursor = self._conn.execute(
            f"SELECT {_COLUMNS} FROM store_items WHERE {clause} AND {_LIVE}",
            [*params, _time(now)],
        )
        return [_row(record) for record in cursor]


def _row(record: tuple[Any, ...]) -> Row:
    seq, prefix, key, value, vectors, created, updated, expires, ttl = record
    return Row(
        namespace=tuple(prefix.split(".")),
        key=key,
        value=json.loads(value),
        created_at=datetime.fromisoformat(created),
        updated_at=datetime.fromisoformat(updated),
        vectors=None if vectors is None else json.loads(vectors),
        expires_at=None if expires is None else datetime.fromisoformat(expires),
        ttl_minutes=ttl,
        seq=seq,
    )
