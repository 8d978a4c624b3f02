"""The checkpoint saver extension point: what a storage backend stores and how.

A saver stores opaque bytes. It never decodes a checkpoint's state, a blob or a
write; the runtime serializes them (with :attr:`BaseCheckpointSaver.serde`) before a
save and after a load. Per ``(thread_id, checkpoint_ns)`` it holds:

- checkpoint records (:class:`CheckpointRecord`), the newest being the one with the
  greatest ``checkpoint_id``;
- channel blobs (:class:`Blob`) keyed ``(channel, version)``, shared by every record
  whose ``versions`` names them; a blob may be a delta over a ``base`` blob;
- pending writes (:class:`PendingWrite`) attached to one record.

A backend implements EITHER the blocking primitives (``save``, ``load``, ...) OR the
async ones (``asave``, ``aload``, ...); this base class derives the other face. A
blocking implementation's async face runs it in a worker thread (inline when
:attr:`~BaseCheckpointSaver.blocking` is False); an async implementation's sync face
runs the coroutine on the loop the saver was created on, when that loop is running in
another thread, else on a private event loop thread owned by the saver.

Every saver removes NUL characters from metadata strings (keys and values), because
PostgreSQL's JSONB cannot hold them; this keeps every backend alike.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import math
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

from rillet.errors import UsageError

if TYPE_CHECKING:
    from rillet.checkpoint.serde import Serializer

__all__ = [
    "BaseCheckpointSaver",
    "Blob",
    "BlobKey",
    "CheckpointRecord",
    "PendingWrite",
    "new_checkpoint_id",
]

T = TypeVar("T")
BlobKey = tuple[str, str]
"""``(channel, version)``."""


@dataclass(frozen=True, slots=True, init=False)
class CheckpointRecord:
    """One checkpoint of one (sub)graph of one thread, as stored."""

    thread_id: str
    checkpoint_ns: str
    """``""`` for the root graph, e.g. ``"sub:<task-id>"`` for a subgraph."""
    checkpoint_id: str
    """From :func:`new_checkpoint_id`; the newest record has the greatest id."""
    parent_id: str | None
    created_at: str
    """ISO-8601, UTC."""
    metadata: dict[str, Any]
    """JSON data with string keys."""
    state: bytes
    versions: dict[str, str]
    """Channel -> version of the blob this checkpoint uses for it."""

    def __init__(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str, parent_id: str | None,
        created_at: str, metadata: dict[str, Any], state: bytes, versions: dict[str, str],
    ) -> None:
        # Records are made on every step: setting the slots through their descriptors
        # takes half the time of the frozen dataclass's object.__setattr__ per field.
        a, b, c, d, e, f, g, h = _RECORD_SLOTS
        a(self, thread_id)
        b(self, checkpoint_ns)
        c(self, checkpoint_id)
        d(self, parent_id)
        e(self, created_at)
        f(self, metadata)
        g(self, state)
        h(self, versions)


_RECORD_SLOTS = tuple(CheckpointRecord.__dict__[f.name].__set__ for f in fields(CheckpointRecord))


@dataclass(frozen=True, slots=True, init=False)
class Blob:
    """One stored channel value: a full value, or a delta over ``base``."""

    data: bytes
    base: str | None = None
    """The version of the blob (same thread, ns and channel) this one extends."""

    def __init__(self, data: bytes, base: str | None = None) -> None:
        a, b = _BLOB_SLOTS  # as in CheckpointRecord
        a(self, data)
        b(self, base)


_BLOB_SLOTS = tuple(Blob.__dict__[f.name].__set__ for f in fields(Blob))


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """A task's write attached to a checkpoint, stored before the next one exists."""

    task_id: str
    idx: int
    """>= 0: the task's writes in order; < 0: special (-1 error, -3 interrupt, -4 resume)."""
    channel: str
    data: bytes
    task_path: str = ""


_id_lock = threading.Lock()
_last_ns = 0
_seq = 0
_random = random.Random()  # seeded from os.urandom; a forked child reseeds its own
if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_random.seed)
_random_bits = _random.getrandbits


def new_checkpoint_id() -> str:
    """A new UUIDv7 string, greater than every id made before it in this process.

    The first 48 bits are the Unix time in ms; the next 30 bits refine it to the
    nanosecond, the following 14 bits count ids made within one nanosecond reading, and
    the last 30 bits are random so that two processes never collide. The text compares
    lexicographically in creation order.
    """
    return new_checkpoint_seed()[0]


def new_checkpoint_seed() -> tuple[str, uuid.UUID]:
    """A :func:`new_checkpoint_id`, and the same id as a ``UUID`` (the runtime seeds
    the next step's task ids with it)."""
    global _last_ns, _seq
    with _id_lock:
        now = time.time_ns()
        if now > _last_ns:
            _last_ns, _seq = now, 0
        else:
            _seq += 1
            if _seq >= 1 << 14:  # more ids than fit in one reading: borrow the next ns
                _last_ns, _seq = _last_ns + 1, 0
        stamp, seq = _last_ns, _seq
    ms, sub_ms = divmod(stamp, 1_000_000)
    ms &= (1 << 48) - 1
    frac = sub_ms * (1 << 30) // 1_000_000  # 30 bits; increasing with sub_ms
    value = (
        ms << 80
        | (0x7000 | frac >> 18) << 64  # version 7, then the top 12 bits of frac (rand_a)
        | (0x8000 | (frac & (1 << 18) - 1) >> 4) << 48  # variant 0b10, 14 more bits
        | (frac & 0xF) << 44
        | seq << 30
        | _random_bits(30)
    )
    seed = _new_uuid(uuid.UUID)  # uuid.UUID(int=...) would check what is known here
    _uuid_int(seed, value)
    _uuid_safe(seed, _UNKNOWN)
    h = f"{value:032x}"
    return "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:])), seed


_new_uuid = object.__new__
_uuid_int = uuid.UUID.__dict__["int"].__set__
_uuid_safe = uuid.UUID.__dict__["is_safe"].__set__
_UNKNOWN = uuid.SafeUUID.unknown


def utc_now() -> str:
    """The current time as ISO-8601 UTC, for :attr:`CheckpointRecord.created_at`."""
    return datetime.datetime.now(datetime.UTC).isoformat()


def clean_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` as plain JSON data without NUL characters (a copy); ``TypeError``
    if it is not JSON data."""
    try:
        return _plain(metadata)  # type: ignore[no-any-return]
    except _NotPlain:
        pass
    try:  # tuples, subclasses of str/int/dict, int/None keys: what JSON makes of them
        text = json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"checkpoint metadata must be JSON data: {exc}") from exc
    return _plain(json.loads(text))  # type: ignore[no-any-return]


class _NotPlain(Exception):
    pass


def _plain(value: Any) -> Any:
    """A copy of plain JSON data with NULs removed from strings and keys (a key that
    then repeats keeps the last value, as JSON does); ``_NotPlain`` for anything else."""
    cls = value.__class__
    if cls is str:
        return value.replace("\x00", "") if "\x00" in value else value
    if cls is dict:
        out = {}
        for key, item in value.items():
            if key.__class__ is not str:
                raise _NotPlain
            if "\x00" in key:
                key = key.replace("\x00", "")
            kind = item.__class__  # scalars inline: metadata is mostly flat
            if kind is str:
                out[key] = item.replace("\x00", "") if "\x00" in item else item
            elif kind is int or kind is bool or item is None:
                out[key] = item
            else:
                out[key] = _plain(item)
        return out
    if cls is list:
        return [_plain(item) for item in value]
    if cls is int or cls is bool or value is None or (cls is float and math.isfinite(value)):
        return value
    raise _NotPlain


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: numbers by value, booleans apart from numbers, objects unordered."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def matches(metadata: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
    """Whether every ``(k, v)`` of ``filter`` equals ``metadata[k]`` as JSON."""
    if not filter:
        return True
    wanted = clean_metadata(filter)
    return all(k in metadata and json_equal(metadata[k], v) for k, v in wanted.items())


def check_bytes(record: CheckpointRecord, blobs: Mapping[BlobKey, Blob]) -> None:
    """Refuse a save whose payloads are not bytes, before anything is stored."""
    if not isinstance(record.state, bytes):
        raise TypeError(f"CheckpointRecord.state must be bytes, not {type(record.state).__name__}")
    for key, blob in blobs.items():
        if not isinstance(blob.data, bytes):
            raise TypeError(f"Blob {key!r}: data must be bytes, not {type(blob.data).__name__}")


def check_write_bytes(writes: Sequence[PendingWrite]) -> None:
    for w in writes:
        if not isinstance(w.data, bytes):
            raise TypeError(f"PendingWrite {w.task_id!r}/{w.idx}: data must be bytes")


def dedupe_writes(writes: Sequence[PendingWrite]) -> list[PendingWrite]:
    """One write per ``(task_id, idx)``: the first of a normal one, the last of a special."""
    kept: dict[tuple[str, int], PendingWrite] = {}
    for w in writes:
        if w.idx < 0 or (w.task_id, w.idx) not in kept:
            kept[(w.task_id, w.idx)] = w
    return list(kept.values())


def chains(rows: Sequence[Any]) -> dict[BlobKey, list[bytes]]:
    """Rows ``(channel, version, base, data)`` ordered key by key, base-most first, into
    chains; a chain that does not start at a full value (``base`` NULL) is dropped."""
    out: dict[BlobKey, list[bytes]] = {}
    broken: set[BlobKey] = set()
    for channel, version, base, data in rows:
        key = (channel, version)
        chain = out.get(key)
        if chain is None:
            out[key] = [bytes(data)]
            if base is not None:
                broken.add(key)
        else:
            chain.append(bytes(data))
    for key in broken:
        del out[key]
    return out


def history_pages(
    fetch: Any, limit: int | None, filter: Mapping[str, Any] | None, page: int = 100
) -> Iterator[CheckpointRecord]:
    """Yield records from ``fetch(after, size)`` pages (keyset paging on
    ``(checkpoint_id, checkpoint_ns)``), applying ``filter`` and ``limit``."""
    after: tuple[str, str] | None = None
    left = limit
    while left is None or left > 0:
        size = page if filter or left is None else min(page, left)
        records: list[CheckpointRecord] = fetch(after, size)
        for r in records:
            if matches(r.metadata, filter):
                yield r
                if left is not None:
                    left -= 1
                    if left == 0:
                        return
        if len(records) < size:
            return
        after = (records[-1].checkpoint_id, records[-1].checkpoint_ns)


class _LoopThread:
    """A daemon thread running an event loop, for the sync face of an async saver."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="rillet-saver-loop", daemon=True
        )
        self.thread.start()


class BaseCheckpointSaver:
    """Storage for checkpoints. Subclass it and implement one face (see the module doc).

    ``load`` returns the pending writes ordered by ``(task_path, task_id, idx)``.
    """

    blocking: bool = True
    """False when the sync primitives never block, so async callers may run them inline."""

    def __init__(self, *, serde: Serializer | None = None) -> None:
        self._serde = serde
        self._loop_lock = threading.Lock()
        self._private: _LoopThread | None = None
        try:
            self._home: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._home = None

    @property
    def serde(self) -> Serializer:
        """The serializer the runtime encodes state, blobs and writes with."""
        if self._serde is None:
            from rillet.checkpoint.serde import Serializer

            self._serde = Serializer()
        return self._serde

    # -- sync primitives -------------------------------------------------------------

    def save(self, record: CheckpointRecord, blobs: Mapping[BlobKey, Blob]) -> None:
        """Store ``record`` and its new ``blobs`` atomically.

        A blob already stored under the same key is kept; a record with an existing
        ``(thread_id, checkpoint_ns, checkpoint_id)`` replaces it. On failure nothing
        of the call is visible.
        """
        self._need("asave", "save")
        return self._sync(self.asave(record, blobs))

    def save_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str,
        writes: Sequence[PendingWrite],
    ) -> None:
        """Attach ``writes`` to a checkpoint. A normal write (``idx >= 0``) already
        stored for its ``(task_id, idx)`` is kept; a special one replaces the old."""
        self._need("asave_writes", "save_writes")
        return self._sync(self.asave_writes(thread_id, checkpoint_ns, checkpoint_id, writes))

    def load(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> tuple[CheckpointRecord, list[PendingWrite]] | None:
        """A record (the newest when ``checkpoint_id`` is None) and its writes, or None."""
        self._need("aload", "load")
        return self._sync(self.aload(thread_id, checkpoint_ns, checkpoint_id))

    def load_blobs(
        self, thread_id: str, checkpoint_ns: str, keys: Sequence[BlobKey]
    ) -> dict[BlobKey, list[bytes]]:
        """For each key, the data of its chain ``[full value, delta1, ..., this]``.

        Missing keys, and keys whose chain lacks a base, are absent from the result.
        """
        self._need("aload_blobs", "load_blobs")
        return self._sync(self.aload_blobs(thread_id, checkpoint_ns, keys))

    def history(
        self, thread_id: str, checkpoint_ns: str | None = "", *, before: str | None = None,
        limit: int | None = None, filter: Mapping[str, Any] | None = None,
    ) -> Iterator[CheckpointRecord]:
        """Records newest first (ties across namespaces: greater ns first).

        ``checkpoint_ns=None``: every namespace; ``before``: only ids below it;
        ``filter``: every ``(k, v)`` equals ``metadata[k]`` as JSON.
        """
        self._need("ahistory", "history")
        return iter(self._sync(self.ahistory(
            thread_id, checkpoint_ns, before=before, limit=limit, filter=filter
        )))

    def delete_thread(self, thread_id: str) -> None:
        """Delete every record, write and blob of the thread, in every namespace."""
        self._need("adelete_thread", "delete_thread")
        return self._sync(self.adelete_thread(thread_id))

    def prune(self, thread_id: str, keep_last: int) -> int:
        """Keep the newest ``keep_last`` records of each namespace; delete the older
        ones with their writes, and every blob no kept record needs (a kept record
        needs the blobs of its versions and their bases). Returns how many records
        were deleted."""
        self._need("aprune", "prune")
        return self._sync(self.aprune(thread_id, keep_last))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every record, write and blob to another thread, ids kept; the target's
        rows under the same keys are overwritten."""
        self._need("acopy_thread", "copy_thread")
        return self._sync(self.acopy_thread(source_thread_id, target_thread_id))

    def delete_for_runs(self, thread_id: str, run_ids: Sequence[str]) -> int:
        """Delete the thread's records whose metadata ``run_id`` (a string) is one of
        ``run_ids``, in every namespace, with their writes, and every blob of the thread
        no remaining record needs; how many records were deleted. (Optional: the
        server's ``multitask_strategy="rollback"`` uses it.)"""
        self._need("adelete_for_runs", "delete_for_runs")
        return self._sync(self.adelete_for_runs(thread_id, run_ids))

    # -- async primitives ------------------------------------------------------------

    async def asave(self, record: CheckpointRecord, blobs: Mapping[BlobKey, Blob]) -> None:
        """Async :meth:`save`."""
        return await self._async("save", self.save, record, blobs)

    async def asave_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str,
        writes: Sequence[PendingWrite],
    ) -> None:
        """Async :meth:`save_writes`."""
        return await self._async(
            "save_writes", self.save_writes, thread_id, checkpoint_ns, checkpoint_id, writes
        )

    async def aload(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> tuple[CheckpointRecord, list[PendingWrite]] | None:
        """Async :meth:`load`."""
        return await self._async("load", self.load, thread_id, checkpoint_ns, checkpoint_id)

    async def aload_blobs(
        self, thread_id: str, checkpoint_ns: str, keys: Sequence[BlobKey]
    ) -> dict[BlobKey, list[bytes]]:
        """Async :meth:`load_blobs`."""
        return await self._async("load_blobs", self.load_blobs, thread_id, checkpoint_ns, keys)

    async def ahistory(
        self, thread_id: str, checkpoint_ns: str | None = "", *, before: str | None = None,
        limit: int | None = None, filter: Mapping[str, Any] | None = None,
    ) -> list[CheckpointRecord]:
        """Async :meth:`history`, as a list."""

        def run() -> list[CheckpointRecord]:
            return list(self.history(
                thread_id, checkpoint_ns, before=before, limit=limit, filter=filter
            ))

        return await self._async("history", run)

    async def adelete_thread(self, thread_id: str) -> None:
        """Async :meth:`delete_thread`."""
        return await self._async("delete_thread", self.delete_thread, thread_id)

    async def aprune(self, thread_id: str, keep_last: int) -> int:
        """Async :meth:`prune`."""
        return await self._async("prune", self.prune, thread_id, keep_last)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Async :meth:`copy_thread`."""
        return await self._async(
            "copy_thread", self.copy_thread, source_thread_id, target_thread_id
        )

    async def adelete_for_runs(self, thread_id: str, run_ids: Sequence[str]) -> int:
        """Async :meth:`delete_for_runs`."""
        return await self._async("delete_for_runs", self.delete_for_runs, thread_id,
                                 list(run_ids))

    # -- deriving one face from the other ---------------------------------------------

    def _overrides(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(BaseCheckpointSaver, name)

    def _need(self, impl: str, called: str) -> None:
        if not self._overrides(impl):
            raise NotImplementedError(
                f"{type(self).__name__} implements neither {called}() nor {impl}()"
            )

    async def _async(self, name: str, fn: Callable[..., T], *args: Any) -> T:
        self._need(name, "a" + name)
        if not self.blocking:
            return fn(*args)
        return await asyncio.to_thread(fn, *args)

    def _sync(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self._target_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise UsageError(
                f"{type(self).__name__}'s blocking methods were called from inside the "
                "event loop its async methods run on, which would deadlock; "
                "await the async method (asave, aload, ...) instead"
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def _target_loop(self) -> asyncio.AbstractEventLoop:
        # An async backend's connections may belong to the loop it was created on, so
        # use that loop while it runs; otherwise a private one.
        home = self._home
        if home is not None and home.is_running() and not home.is_closed():
            return home
        with self._loop_lock:
            if self._private is None:
                self._private = _LoopThread()
            return self._private.loop
