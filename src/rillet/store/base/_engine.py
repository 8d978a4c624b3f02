"""What each store operation means, written once for every engine.

An engine only stores and fetches :class:`Row` objects through a transaction object
(:class:`Tx`: ``get``, ``scan``, ``namespaces``, ``upsert``, ``delete``, ``refresh``,
``sweep``). Everything else — validation, embedding, filters, ranking, ordering,
pagination, namespace matching, TTL arithmetic — lives here.

A batch is planned by the generator :func:`_plan`, which yields engine calls and
receives their results; :func:`_drive` and :func:`_adrive` are the sync and async
drivers, so an async engine (``AsyncPostgresStore``) shares the algorithm.

Semantics follow LangGraph's ``InMemoryStore``: reads in a batch see the store as it
was before the batch's writes; writes to one key keep the last. Results are ordered
as ``InMemoryStore`` orders them: namespaces by their first write, items by first
write within a namespace (an update keeps an item's place).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import threading
from collections.abc import AsyncIterator, Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from rillet.errors import ConfigError, UsageError
from rillet.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)
from rillet.store.base.embed import Embedder, cosine_similarity, ensure_embeddings
from rillet.store.base.embed import get_text_at_path as _texts_at

Namespace = tuple[str, ...]
Vectors = dict[str, list[float]]
_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")


@dataclass(slots=True)
class Row:
    """One stored item as engines see it. ``seq`` orders items by first write; an
    engine assigns it on insert and keeps it (and ``created_at``) on update."""

    namespace: Namespace
    key: str
    value: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    vectors: Vectors | None = None
    expires_at: datetime | None = None
    ttl_minutes: float | None = None
    seq: int = 0


class Tx(Protocol):
    """An engine's transaction. ``now`` lets engines skip expired rows themselves; the
    core checks again, so skipping is an optimisation only. Async engines return
    awaitables from the same methods."""

    def get(self, namespace: Namespace, key: str, now: datetime) -> Any: ...
    def scan(self, prefix: Namespace, now: datetime) -> Any: ...
    def namespaces(self, prefix: Namespace, now: datetime) -> Any: ...
    def upsert(self, rows: list[Row]) -> Any: ...
    def delete(self, keys: list[tuple[Namespace, str]]) -> Any: ...
    def refresh(self, keys: list[tuple[Namespace, str]], now: datetime) -> Any: ...
    def sweep(self, now: datetime) -> Any: ...


@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    args: tuple[Any, ...]


_Plan = Generator[_Call, Any, Any]


class EngineStore(BaseStore):
    """A :class:`BaseStore` whose engine supplies ``_transaction`` (and, for async
    engines, ``_atransaction``)."""

    supports_ttl = True

    def __init__(self, *, index: IndexConfig | None = None, ttl: TTLConfig | None = None):
        self.index_config: dict[str, Any] | None = dict(index) if index else None
        self.embeddings: Embedder | None = None
        if self.index_config is not None:
            self.embeddings = ensure_embeddings(self.index_config.get("embed"))
            self.index_config["fields"] = list(self.index_config.get("fields") or ["$"])
        self.ttl_config = ttl
        self._lock = threading.Lock()

    def _now(self) -> datetime:
        """The current UTC time; tests replace it to move the clock."""
        return datetime.now(UTC)

    def _transaction(self) -> contextlib.AbstractContextManager[Tx]:
        raise NotImplementedError

    def _atransaction(self) -> contextlib.AbstractAsyncContextManager[Tx]:
        return _async_wrap(self._transaction())

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        ops = _checked(ops)
        docs, queries = self._embedding_requests(ops)
        vectors: dict[str, list[float]] = {}
        if self.embeddings is not None:
            if docs:
                vectors.update(zip(docs, self.embeddings.embed_documents(docs), strict=True))
            for query in queries:
                vectors.setdefault(query, self.embeddings.embed_query(query))
        with self._transaction() as tx:
            result: list[Result] = _drive(_plan(self, ops, vectors, self._now()), tx)
            return result

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        ops = _checked(ops)
        docs, queries = self._embedding_requests(ops)
        vectors: dict[str, list[float]] = {}
        if self.embeddings is not None:
            if docs:
                embedded = await self.embeddings.aembed_documents(docs)
                vectors.update(zip(docs, embedded, strict=True))
            for query in queries:
                vectors.setdefault(query, await self.embeddings.aembed_query(query))
        async with self._atransaction() as tx:
            result: list[Result] = await _adrive(_plan(self, ops, vectors, self._now()), tx)
            return result

    def sweep_ttl(self) -> int:
        """Delete the expired items; returns how many were deleted."""
        with self._transaction() as tx:
            count: int = _drive(_sweep(self._now()), tx)
            return count

    async def asweep_ttl(self) -> int:
        """Async :meth:`sweep_ttl`."""
        async with self._atransaction() as tx:
            count: int = await _adrive(_sweep(self._now()), tx)
            return count

    def _embedding_requests(self, ops: list[Op]) -> tuple[list[str], list[str]]:
        """The distinct document texts of the batch's puts, and its search queries."""
        if self.index_config is None:
            return [], []
        docs: dict[str, None] = {}
        for op in _last_puts(ops).values():
            for text in self._texts(op).values():
                docs[text] = None
        queries = [op.query for op in ops if isinstance(op, SearchOp) and op.query]
        return list(docs), list(dict.fromkeys(queries))

    def _texts(self, op: PutOp) -> dict[str, str]:
        """Vector name -> text for one put (``path``, or ``path.i`` for several texts)."""
        if self.index_config is None or op.value is None or op.index is False:
            return {}
        fields = op.index if op.index is not None else self.index_config["fields"]
        named: dict[str, str] = {}
        for path in fields:
            texts = _texts_at(op.value, path)
            for i, text in enumerate(texts):
                named[f"{path}.{i}" if len(texts) > 1 else path] = text
        return named


def _checked(ops: Iterable[Op]) -> list[Op]:
    ops = list(ops)
    for op in ops:
        if isinstance(op, PutOp) and op.value is not None and not isinstance(op.value, Mapping):
            raise UsageError(
                f"Store values must be dicts; got {type(op.value).__name__} for key "
                f"{op.key!r} in {op.namespace}."
            )
        if isinstance(op, SearchOp):
            _check_filter(op.filter)
        elif not isinstance(op, GetOp | PutOp | ListNamespacesOp):
            raise UsageError(f"Unknown operation type: {type(op)}")
    return ops


def _last_puts(ops: list[Op]) -> dict[tuple[Namespace, str], PutOp]:
    puts: dict[tuple[Namespace, str], PutOp] = {}
    for op in ops:
        if isinstance(op, PutOp):
            puts[(op.namespace, op.key)] = op
    return puts


def _plan(
    store: EngineStore, ops: list[Op], vectors: dict[str, list[float]], now: datetime
) -> _Plan:
    results: list[Result] = []
    touched: list[Row] = []
    for op in ops:
        if isinstance(op, GetOp):
            row = yield _Call("get", (op.namespace, op.key, now))
            row = row if row is not None and _live(row, now) else None
            if row is not None and op.refresh_ttl:
                touched.append(row)
            results.append(_item(row) if row is not None else None)
        elif isinstance(op, SearchOp):
            rows = yield _Call("scan", (op.namespace_prefix, now))
            found = _search(op, [r for r in rows if _live(r, now)], vectors)
            if op.refresh_ttl:
                touched.extend(row for row, _ in found)
            results.append([_item(row, score) for row, score in found])
        elif isinstance(op, ListNamespacesOp):
            namespaces = yield _Call("namespaces", (_literal_prefix(op), now))
            results.append(_list_namespaces(op, namespaces))
        else:
            results.append(None)
    refresh = [(r.namespace, r.key) for r in touched if r.ttl_minutes is not None]
    if refresh:
        yield _Call("refresh", (list(dict.fromkeys(refresh)), now))
    puts = _last_puts(ops)
    deletes = [key for key, op in puts.items() if op.value is None]
    if deletes:
        yield _Call("delete", (deletes,))
    rows = [_row(store, op, vectors, now) for op in puts.values() if op.value is not None]
    if rows:
        yield _Call("upsert", (rows,))
    return results


def _sweep(now: datetime) -> _Plan:
    count = yield _Call("sweep", (now,))
    return count


def _drive(plan: _Plan, tx: Tx) -> Any:
    reply = None
    while True:
        try:
            call = plan.send(reply)
        except StopIteration as stop:
            return stop.value
        reply = getattr(tx, call.method)(*call.args)


async def _adrive(plan: _Plan, tx: Tx) -> Any:
    reply = None
    while True:
        try:
            call = plan.send(reply)
        except StopIteration as stop:
            return stop.value
        reply = getattr(tx, call.method)(*call.args)
        if inspect.isawaitable(reply):
            reply = await reply


@contextlib.asynccontextmanager
async def _async_wrap(cm: contextlib.AbstractContextManager[Tx]) -> AsyncIterator[Tx]:
    # Sync engines run inline: their calls are short and local.
    with cm as tx:
        yield tx


def _row(store: EngineStore, op: PutOp, vectors: dict[str, list[float]], now: datetime) -> Row:
    value = _json_copy(op)
    embedded = None
    if store.index_config is not None and op.index is not False:
        embedded = {name: vectors[text] for name, text in store._texts(op).items()}
    expires = now + timedelta(minutes=op.ttl) if op.ttl is not None else None
    return Row(op.namespace, op.key, value, now, now, embedded, expires, op.ttl)


def _json_copy(op: PutOp) -> dict[str, Any]:
    """The value as it will read back: plain JSON, so every engine returns the same."""
    try:
        loaded: dict[str, Any] = json.loads(json.dumps(dict(op.value or {}), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise UsageError(
            f"The value for key {op.key!r} in {op.namespace} cannot be stored as JSON: {exc}"
        ) from exc
    return loaded


def _live(row: Row, now: datetime) -> bool:
    return row.expires_at is None or row.expires_at > now


def _item(row: Row, score: float | bool | None = False) -> Item:
    if score is False:
        return Item(
            value=row.value, key=row.key, namespace=row.namespace,
            created_at=row.created_at, updated_at=row.updated_at,
        )
    return SearchItem(
        row.namespace, row.key, row.value, row.created_at, row.updated_at,
        None if score is None else float(score),
    )


def ordered(rows: list[Row]) -> list[Row]:
    """Namespaces by their earliest item, then items by first write."""
    first: dict[Namespace, int] = {}
    for row in rows:
        first[row.namespace] = min(first.get(row.namespace, row.seq), row.seq)
    return sorted(rows, key=lambda r: (first[r.namespace], r.seq))


def _search(
    op: SearchOp, rows: list[Row], vectors: dict[str, list[float]]
) -> list[tuple[Row, float | None]]:
    prefix = op.namespace_prefix
    candidates = [
        r for r in ordered(rows)
        if r.namespace[: len(prefix)] == prefix and _matches(r.value, op.filter)
    ]
    start, stop = max(op.offset, 0), max(op.offset, 0) + max(op.limit, 0)
    if not (op.query and op.query in vectors):
        return [(row, None) for row in candidates[start:stop]]
    query = vectors[op.query]
    scored = [
        (row, max(cosine_similarity(query, v) for v in row.vectors.values()))
        for row in candidates if row.vectors
    ]
    scored.sort(key=lambda pair: pair[1], reverse=True)  # stable: ties keep their order
    unscored: list[tuple[Row, float | None]] = [(r, None) for r in candidates if not r.vectors]
    return [*scored, *unscored][start:stop]


def _check_filter(filter: dict[str, Any] | None) -> None:
    for condition in (filter or {}).values():
        if isinstance(condition, dict):
            for name in condition:
                if name.startswith("$") and name not in _OPERATORS:
                    raise ConfigError(f"Unsupported operator: {name}")


def _matches(value: dict[str, Any], filter: dict[str, Any] | None) -> bool:
    return all(_compare(value.get(k), wanted) for k, wanted in (filter or {}).items())


def _compare(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        if any(k.startswith("$") for k in wanted):
            return all(_operator(actual, op, operand) for op, operand in wanted.items())
        return isinstance(actual, dict) and all(
            _compare(actual.get(k), v) for k, v in wanted.items()
        )
    if isinstance(wanted, list | tuple):
        return (
            isinstance(actual, list | tuple)
            and len(actual) == len(wanted)
            and all(_compare(a, w) for a, w in zip(actual, wanted, strict=True))
        )
    return bool(actual == wanted)


def _operator(actual: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return bool(actual == operand)
    if op == "$ne":
        return bool(actual != operand)
    # Ordering compares numbers (and numeric strings) as LangGraph does; two other
    # strings compare as text; anything else (a missing field, None) does not match.
    try:
        left, right = float(actual), float(operand)
    except (TypeError, ValueError):
        if not (isinstance(actual, str) and isinstance(operand, str)):
            return False
        left, right = actual, operand  # type: ignore[assignment]
    if op == "$gt":
        return left > right
    if op == "$gte":
        return left >= right
    if op == "$lt":
        return left < right
    return left <= right


def _literal_prefix(op: ListNamespacesOp) -> Namespace:
    """The labels every listed namespace must start with: the prefix condition's labels
    up to its first wildcard. Engines may narrow their scan with it."""
    for condition in op.match_conditions or ():
        if condition.match_type == "prefix":
            labels: list[str] = []
            for label in condition.path:
                if label == "*":
                    break
                labels.append(label)
            return tuple(labels)
    return ()


def _list_namespaces(op: ListNamespacesOp, namespaces: Iterable[Namespace]) -> list[Namespace]:
    found = [
        ns for ns in namespaces
        if all(_namespace_matches(c, ns) for c in op.match_conditions or ())
    ]
    if op.max_depth is not None:
        found = [ns[: op.max_depth] for ns in found]
    unique = sorted(set(found))
    return unique[op.offset : op.offset + op.limit]


def _namespace_matches(condition: MatchCondition, namespace: Namespace) -> bool:
    path = condition.path
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        pairs = zip(namespace, path, strict=False)
    elif condition.match_type == "suffix":
        pairs = zip(reversed(namespace), reversed(path), strict=False)
    else:
        raise ConfigError(f"Unsupported match type: {condition.match_type}")
    return all(want == "*" or have == want for have, want in pairs)
