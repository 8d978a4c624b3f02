"""``SqliteCache``: the cache in one SQLite table (stdlib ``sqlite3``).

Schema (created on first use)::

    cache_entries(ns TEXT, key TEXT, PRIMARY KEY (ns, key),  -- ns: JSON list of str
                  value BLOB,     -- rillet's serializer (JSON), never pickle
                  expiry REAL)    -- seconds since the epoch, or NULL

One connection per cache, used under a lock, so a cache may be shared by threads;
several processes may share one file (WAL, and a busy timeout waits out their writes).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rillet.cache.base import BaseCache, FullKey, Namespace
from rillet.checkpoint.serde import SerializationError, Serializer

__all__ = ["SqliteCache"]

logger = logging.getLogger("rillet.cache")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cache_entries (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    expiry REAL,
    PRIMARY KEY (ns, key)
)
"""


class SqliteCache(BaseCache[Any]):
    """A cache in the SQLite database file ``path`` (``":memory:"``: one process).

    A value that cannot be decoded (written by another version, or tampered with) is
    a miss for the runtime: the node runs again and its entry is overwritten.
    """

    blocking = True

    def __init__(
        self,
        *,
        path: str,
        serde: Serializer | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(serde=serde, clock=clock)
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            path, timeout=30.0, check_same_thread=False, isolation_level=None
        )
        with self._lock:
            if path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_SCHEMA)

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        if not keys:
            return {}
        now = self.clock()
        wanted = {(_ns(ns), key): (tuple(ns), key) for ns, key in keys}
        rows: list[tuple[str, str, bytes]] = []
        with self._lock:
            for (ns, key) in wanted:
                row = self._conn.execute(
                    "SELECT value FROM cache_entries WHERE ns = ? AND key = ? "
                    "AND (expiry IS NULL OR expiry > ?)",
                    (ns, key, now),
                ).fetchone()
                if row is not None:
                    rows.append((ns, key, row[0]))
        found: dict[FullKey, Any] = {}
        for ns, key, data in rows:
            try:
                found[wanted[(ns, key)]] = self.serde.loads(bytes(data))
            except SerializationError as exc:
                logger.warning("cache entry %s/%s does not decode, a miss: %s", ns, key, exc)
        return found

    def set(self, pairs: Mapping[FullKey, tuple[Any, float | None]]) -> None:
        dumps = self.serde.dumps
        rows = [(_ns(ns), key, dumps(value), self.expiry(ttl))
                for (ns, key), (value, ttl) in pairs.items()]
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO cache_entries (ns, key, value, expiry) "
                    "VALUES (?, ?, ?, ?)",
                    rows,
                )
                # Expired entries are dropped as new ones come, so the file stays small.
                self._conn.execute(
                    "DELETE FROM cache_entries WHERE expiry IS NOT NULL AND expiry <= ?",
                    (self.clock(),),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        with self._lock:
            if namespaces is None:
                self._conn.execute("DELETE FROM cache_entries")
            else:
                self._conn.executemany(
                    "DELETE FROM cache_entries WHERE ns = ?", [(_ns(ns),) for ns in namespaces]
                )

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteCache(path={self.path!r})"


def _ns(ns: Namespace) -> str:
    return json.dumps(list(ns), ensure_ascii=False, separators=(",", ":"))
