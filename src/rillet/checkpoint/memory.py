"""An in-process checkpoint saver: dicts behind a lock, gone when the process ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rillet.checkpoint.base import (
    BaseCheckpointSaver,
    Blob,
    BlobKey,
    CheckpointRecord,
    PendingWrite,
    check_bytes,
    check_write_bytes,
    clean_metadata,
    dedupe_writes,
    matches,
)

if TYPE_CHECKING:
    from rillet.checkpoint.serde import Serializer

__all__ = ["InMemorySaver", "MemorySaver"]

_Space = tuple[str, str]  # (thread_id, checkpoint_ns)
_Stored = tuple[str, str, str, "str | None", str, dict[str, Any], bytes, dict[str, str]]
"""A record as saved: its fields as a tuple of strings, bytes and plain dicts (copies:
the caller may change its own later). Nothing here is an object the cyclic garbage
collector must keep visiting, so a saver holding many checkpoints does not make every
collection of the process slower; blobs are kept as ``(data, base)`` for the same
reason."""


class InMemorySaver(BaseCheckpointSaver):
    """Keeps checkpoints in memory; for tests, notebooks and short-lived programs."""

    blocking = False

    def __init__(self, *, serde: Serializer | None = None) -> None:
        super().__init__(serde=serde)
        self._lock = threading.Lock()
        self._records: dict[_Space, dict[str, _Stored]] = {}
        #: The greatest checkpoint id per space, once a load asked (a long thread has
        #: many records to take the max of); dropped where records go away.
        self._latest: dict[_Space, str] = {}
        self._writes: dict[tuple[str, str, str], dict[tuple[str, int], PendingWrite]] = {}
        self._blobs: dict[_Space, dict[BlobKey, tuple[bytes, str | None]]] = {}

    def save(self, record: CheckpointRecord, blobs: Mapping[BlobKey, Blob]) -> None:
        check_bytes(record, blobs)
        r = record
        saved = (r.thread_id, r.checkpoint_ns, r.checkpoint_id, r.parent_id, r.created_at,
                 clean_metadata(r.metadata), r.state, dict(r.versions))
        space = (record.thread_id, record.checkpoint_ns)
        with self._lock:
            stored = self._blobs.setdefault(space, {})
            for key, blob in blobs.items():
                if key not in stored:
                    stored[key] = (blob.data, blob.base)
            self._records.setdefault(space, {})[record.checkpoint_id] = saved
            latest = self._latest.get(space)
            if latest is not None and record.checkpoint_id > latest:
                self._latest[space] = record.checkpoint_id

    def save_writes(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str,
        writes: Sequence[PendingWrite],
    ) -> None:
        check_write_bytes(writes)
        with self._lock:
            stored = self._writes.setdefault((thread_id, checkpoint_ns, checkpoint_id), {})
            for w in dedupe_writes(writes):
                if w.idx < 0 or (w.task_id, w.idx) not in stored:
                    stored[(w.task_id, w.idx)] = w

    def load(
        self, thread_id: str, checkpoint_ns: str, checkpoint_id: str | None
    ) -> tuple[CheckpointRecord, list[PendingWrite]] | None:
        with self._lock:
            space = (thread_id, checkpoint_ns)
            records = self._records.get(space)
            if not records:
                return None
            cid = checkpoint_id
            if cid is None:
                cid = self._latest.get(space)
                if cid is None:
                    cid = self._latest[space] = max(records)
            saved = records.get(cid)
            if saved is None:
                return None
            writes = self._writes.get((thread_id, checkpoint_ns, cid), {}).values()
            ordered = sorted(writes, key=lambda w: (w.task_path, w.task_id, w.idx))
        return _record(saved), ordered

    def load_blobs(
        self, thread_id: str, checkpoint_ns: str, keys: Sequence[BlobKey]
    ) -> dict[BlobKey, list[bytes]]:
        out: dict[BlobKey, list[bytes]] = {}
        with self._lock:
            stored = self._blobs.get((thread_id, checkpoint_ns), {})
            for key in keys:
                chain: list[bytes] = []
                version: str | None = key[1]
                while version is not None and len(chain) <= len(stored):
                    blob = stored.get((key[0], version))
                    if blob is None:
                        break
                    data, version = blob
                    chain.append(data)
                if version is None:  # reached a full value
                    out[key] = chain[::-1]
        return out

    def history(
        self, thread_id: str, checkpoint_ns: str | None = "", *, before: str | None = None,
        limit: int | None = None, filter: Mapping[str, Any] | None = None,
    ) -> Iterator[CheckpointRecord]:
        with self._lock:
            found = [
                saved for (tid, ns), records in self._records.items()
                if tid == thread_id and (checkpoint_ns is None or ns == checkpoint_ns)
                for saved in records.values()
                if (before is None or saved[2] < before) and matches(saved[5], filter)
            ]
        found.sort(key=lambda s: (s[2], s[1]), reverse=True)
        return map(_record, found if limit is None else found[:limit])

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            for space in [k for k in self._records if k[0] == thread_id]:
                del self._records[space]
                self._latest.pop(space, None)
            for space in [k for k in self._blobs if k[0] == thread_id]:
                del self._blobs[space]
            for key in [k for k in self._writes if k[0] == thread_id]:
                del self._writes[key]

    def prune(self, thread_id: str, keep_last: int) -> int:
        if keep_last < 0:
            raise ValueError(f"keep_last must be >= 0, got {keep_last}")
        deleted = 0
        with self._lock:
            spaces = {k for k in (*self._records, *self._blobs) if k[0] == thread_id}
            for space in spaces:
                records = self._records.get(space, {})
                self._latest.pop(space, None)
                for cid in sorted(records, reverse=True)[keep_last:]:
                    del records[cid]
                    self._writes.pop((*space, cid), None)
                    deleted += 1
                self._drop_unneeded_blobs(space, records.values())
        return deleted

    def delete_for_runs(self, thread_id: str, run_ids: Sequence[str]) -> int:
        wanted = set(run_ids)
        deleted = 0
        with self._lock:
            spaces = {k for k in (*self._records, *self._blobs) if k[0] == thread_id}
            for space in spaces:
                records = self._records.get(space, {})
                self._latest.pop(space, None)
                for cid in [c for c, saved in records.items()
                            if isinstance(run := saved[5].get("run_id"), str) and run in wanted]:
                    del records[cid]
                    self._writes.pop((*space, cid), None)
                    deleted += 1
                self._drop_unneeded_blobs(space, records.values())
        return deleted

    def _drop_unneeded_blobs(self, space: _Space, kept: Any) -> None:
        stored = self._blobs.get(space, {})
        needed: set[BlobKey] = set()
        todo = [key for saved in kept for key in saved[7].items()]
        while todo:
            key = todo.pop()
            if key in needed:
                continue
            needed.add(key)
            blob = stored.get(key)
            if blob is not None and blob[1] is not None:
                todo.append((key[0], blob[1]))
        for key in [k for k in stored if k not in needed]:
            del stored[key]

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        with self._lock:
            for (tid, ns), records in list(self._records.items()):
                if tid == source_thread_id:
                    target = self._records.setdefault((target_thread_id, ns), {})
                    self._latest.pop((target_thread_id, ns), None)
                    for cid, saved in records.items():
                        target[cid] = (target_thread_id, *saved[1:])
            for (tid, ns, cid), writes in list(self._writes.items()):
                if tid == source_thread_id:
                    self._writes.setdefault((target_thread_id, ns, cid), {}).update(writes)
            for (tid, ns), blobs in list(self._blobs.items()):
                if tid == source_thread_id:
                    self._blobs.setdefault((target_thread_id, ns), {}).update(blobs)


def _record(saved: _Stored) -> CheckpointRecord:
    thread_id, ns, cid, parent_id, created_at, metadata, state, versions = saved
    return CheckpointRecord(thread_id, ns, cid, parent_id, created_at,
                            clean_metadata(metadata), state, dict(versions))


MemorySaver = InMemorySaver
"""LangGraph's older name for :class:`InMemorySaver`."""
