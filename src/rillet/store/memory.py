"""``InMemoryStore``: the store in a dict, for tests and single-process programs.

Values are kept as JSON text and parsed on every read, so a caller that mutates a
returned value never changes what is stored. Async methods run inline (no I/O).
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

from rillet.store.base import IndexConfig, TTLConfig
from rillet.store.base._engine import EngineStore, Namespace, Row, Tx

__all__ = ["InMemoryStore"]


class InMemoryStore(EngineStore):
    """A store held in memory; safe to share between threads.

    ``index`` enables semantic search (``{"dims": ..., "embed": ..., "fields": [...]}``);
    ``ttl`` sets expiry defaults (``{"default_ttl": minutes, "refresh_on_read": True}``).
    """

    def __init__(self, *, index: IndexConfig | None = None, ttl: TTLConfig | None = None):
        super().__init__(index=index, ttl=ttl)
        self._rows: dict[tuple[Namespace, str], tuple[Row, str]] = {}
        self._seq = itertools.count(1)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Tx]:
        with self._lock:
            yield _MemoryTx(self)


class _MemoryTx:
    def __init__(self, store: InMemoryStore) -> None:
        self._rows = store._rows
        self._seq = store._seq

    def _read(self, stored: tuple[Row, str]) -> Row:
        row, text = stored
        return replace(row, value=json.loads(text))

    def get(self, namespace: Namespace, key: str, now: datetime) -> Row | None:
        stored = self._rows.get((namespace, key))
        return self._read(stored) if stored is not None else None

    def scan(self, prefix: Namespace, now: datetime) -> list[Row]:
        return [
            self._read(stored)
            for (namespace, _), stored in self._rows.items()
            if namespace[: len(prefix)] == prefix
        ]

    def namespaces(self, prefix: Namespace, now: datetime) -> list[Namespace]:
        return list({
            row.namespace: None
            for row, _ in self._rows.values()
            if row.namespace[: len(prefix)] == prefix
            and (row.expires_at is None or row.expires_at > now)
        })

    def upsert(self, rows: list[Row]) -> None:
        for row in rows:
            old = self._rows.get((row.namespace, row.key))
            if old is not None:
                row = replace(row, created_at=old[0].created_at, seq=old[0].seq)
            else:
                row = replace(row, seq=next(self._seq))
            self._rows[(row.namespace, row.key)] = (replace(row, value={}), json.dumps(row.value))

    def delete(self, keys: list[tuple[Namespace, str]]) -> None:
        for key in keys:
            self._rows.pop(key, None)

    def refresh(self, keys: list[tuple[Namespace, str]], now: datetime) -> None:
        for key in keys:
            stored = self._rows.get(key)
            if stored is not None and stored[0].ttl_minutes is not None:
                expires = now + timedelta(minutes=stored[0].ttl_minutes)
                self._rows[key] = (replace(stored[0], expires_at=expires), stored[1])

    def sweep(self, now: datetime) -> int:
        expired = [
            key for key, (row, _) in self._rows.items()
            if row.expires_at is not None and row.expires_at <= now
        ]
        self.delete(expired)
        return len(expired)
