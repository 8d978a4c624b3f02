"""The SQL of the Postgres stores, shared by the sync and async engines.

Each engine call (``get``, ``scan``, ...) becomes one :class:`Query`: a statement, its
parameters and how to turn the fetched rows into the call's result. The sync and async
stores only execute queries.

Schema (created by ``setup()``)::

    store_items(prefix text, key text, PRIMARY KEY (prefix, key),  -- namespace joined by "."
                seq bigint GENERATED ALWAYS AS IDENTITY,  -- order of first write
                value jsonb, vectors jsonb,               -- vectors: {field: [floats]}
                created_at, updated_at, expires_at timestamptz, ttl_minutes float8)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from rillet.store.base._engine import Namespace, Row

SETUP = (
    # Several processes may run setup() at once: concurrent CREATE ... IF NOT EXISTS
    # can still collide in the catalog, so they take turns on a transaction lock.
    "SELECT pg_advisory_xact_lock(7236828349215310701)",
    """CREATE TABLE IF NOT EXISTS store_items (
        prefix text NOT NULL,
        key text NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        value jsonb NOT NULL,
        vectors jsonb,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        expires_at timestamptz,
        ttl_minutes double precision,
        PRIMARY KEY (prefix, key)
    )""",
    "CREATE INDEX IF NOT EXISTS store_items_prefix_idx ON store_items (prefix text_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS store_items_expires_at_idx ON store_items (expires_at)"
    " WHERE expires_at IS NOT NULL",
)

_COLUMNS = "seq, prefix, key, value, vectors, created_at, updated_at, expires_at, ttl_minutes"
_LIVE = "(expires_at IS NULL OR expires_at > %s)"


@dataclass(frozen=True, slots=True)
class Query:
    sql: str
    params: Sequence[Any]
    convert: Callable[[list[tuple[Any, ...]]], Any] | None = None
    """Turns the fetched rows into the result; ``None``: the statement returns nothing."""


def _text(namespace: Namespace) -> str:
    return ".".join(namespace)


def _prefix_clause(prefix: Namespace) -> tuple[str, list[Any]]:
    if not prefix:
        return "TRUE", []
    text = _text(prefix)
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"
    return "(prefix = %s OR prefix LIKE %s)", [text, pattern]


class Statements:
    """The engine calls of :class:`~rillet.store.base._engine.Tx`, as queries."""

    def get(self, namespace: Namespace, key: str, now: datetime) -> Query:
        return Query(
            f"SELECT {_COLUMNS} FROM store_items WHERE prefix = %s AND key = %s AND {_LIVE}",
            [_text(namespace), key, now],
            lambda rows: _row(rows[0]) if rows else None,
        )

    def scan(self, prefix: Namespace, now: datetime) -> Query:
        clause, params = _prefix_clause(prefix)
        return Query(
            f"SELECT {_COLUMNS} FROM store_items WHERE {clause} AND {_LIVE}",
            [*params, now],
            lambda rows: [_row(r) for r in rows],
        )

    def namespaces(self, prefix: Namespace, now: datetime) -> Query:
        clause, params = _prefix_clause(prefix)
        return Query(
            f"SELECT DISTINCT prefix FROM store_items WHERE {clause} AND {_LIVE}",
            [*params, now],
            lambda rows: [tuple(text.split(".")) for (text,) in rows],
        )

    def upsert(self, rows: list[Row]) -> Query:
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(rows))
        params: list[Any] = []
        for r in rows:
            vectors = None if r.vectors is None else Jsonb(r.vectors)
            params += [_text(r.namespace), r.key, Jsonb(r.value), vectors, r.created_at,
                       r.updated_at, r.expires_at, r.ttl_minutes]
        return Query(
            "INSERT INTO store_items (prefix, key, value, vectors, created_at, updated_at,"
            f" expires_at, ttl_minutes) VALUES {values}"
            " ON CONFLICT (prefix, key) DO UPDATE SET value = EXCLUDED.value,"
            " vectors = EXCLUDED.vectors, updated_at = EXCLUDED.updated_at,"
            " expires_at = EXCLUDED.expires_at, ttl_minutes = EXCLUDED.ttl_minutes",
            params,
        )

    def delete(self, keys: list[tuple[Namespace, str]]) -> Query:
        return Query(
            "DELETE FROM store_items s USING unnest(%s::text[], %s::text[]) AS k(prefix, key)"
            " WHERE s.prefix = k.prefix AND s.key = k.key",
            [[_text(ns) for ns, _ in keys], [key for _, key in keys]],
        )

    def refresh(self, keys: list[tuple[Namespace, str]], now: datetime) -> Query:
        return Query(
            "UPDATE store_items s SET expires_at = %s + s.ttl_minutes * interval '1 minute'"
            " FROM unnest(%s::text[], %s::text[]) AS k(prefix, key)"
            " WHERE s.prefix = k.prefix AND s.key = k.key AND s.ttl_minutes IS NOT NULL",
            [now, [_text(ns) for ns, _ in keys], [key for _, key in keys]],
        )

    def sweep(self, now: datetime) -> Query:
        return Query(
            "DELETE FROM store_items WHERE expires_at IS NOT NULL AND expires_at <= %s"
            " RETURNING 1",
            [now],
            len,
        )


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


def _row(record: tuple[Any, ...]) -> Row:
    seq, prefix, key, value, vectors, created, updated, expires, ttl = record
    return Row(
        namespace=tuple(prefix.split(".")),
        key=key,
        value=value,
        created_at=created.astimezone(UTC),
        updated_at=updated.astimezone(UTC),
        vectors=vectors,
        expires_at=_utc(expires),
        ttl_minutes=ttl,
        seq=seq,
    )


__all__ = ["SETUP", "Query", "Statements"]
