"""An in-process checkpoint saver: dicts behind a lock, gone when the process ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
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


class InMemorySaver(BaseCheckpointSaver):
    """Keeps checkpoints in memory; for tests, notebooks and short-lived programs."""

    blocking = False

    def __init__(self, *, serde: Serializer | None = None) -> None:
        super().__init__(serde=serde)
        self._lock = threading.Lock()
        self._records: dict[_Space, dict[str, CheckpointRecord]] = {}
        self._writes: dict[tuple[str, str, str], dict[tuple[str, int], PendingWrite]] = {}
        self._blobs: dict[_Space, dict[BlobKey, Blob]] = {}

    def save(self, record: CheckpointRecord, blobs: Mapping[BlobKey, Blob]) -> None:
        check_bytes(record, blobs)
        record = replace(
            record, metadata=clean_metadata(record.metadata), versions=dict(record.versions)
        )
        space = (record.thread_id, record.checkpoint_ns)
        with self._lock:
            stored = self._blobs.setdefault(space, {})
            for key, blob in blobs.items():
                stored.setdefault(key, blob)
            self._records.setdefault(space, {})[record.checkpoint_id] = record

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
            records = self._records.get((thread_id, checkpoint_ns))
            if not records:
                return None
            cid = max(records) if checkpoint_id is None else checkpoint_id
            record = records.get(cid)
            if record is None:
                return None
            writes = self._writes.get((thread_id, checkpoint_ns, cid), {}).values()
            ordered = sorted(writes, key=lambda w: (w.task_path, w.task_id, w.idx))
        return replace(record, metadata=clean_metadata(record.metadata)), ordered

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
                    chain.append(blob.data)
                    version = blob.base
                if version is None:  # reached a full value
                    out[key] = chain[::-1]
        return out

    def history(
        self, thread_id: str, checkpoint_ns: str | None = "", *, before: str | None = None,
        limit: int | None = None, filter: Mapping[str, Any] | None = None,
    ) -> Iterator[CheckpointRecord]:
        with self._lock:
            found = [
                r for (tid, ns), records in self._records.items()
                if tid == thread_id and (checkpoint_ns is None or ns == checkpoint_ns)
                for r in records.values()
                if (before is None or r.checkpoint_id < before) and matches(r.metadata, filter)
            ]
        found.sort(key=lambda r: (r.checkpoint_id, r.checkpoint_ns), reverse=True)
        return iter(found if limit is None else found[:limit])

    def delete_thread(self, thread_id: str) -> None:
        with self._lock:
            for space in [k for k in self._records if k[0] == thread_id]:
                del self._records[space]
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
                for cid in sorted(records, reverse=True)[keep_last:]:
                    del records[cid]
                    self._writes.pop((*space, cid), None)
                    deleted += 1
                self._drop_unneeded_blobs(space, records.values())
        return deleted

    def _drop_unneeded_blobs(self, space: _Space, kept: Any) -> None:
        stored = self._blobs.get(space, {})
        needed: set[BlobKey] = set()
        todo = [key for r in kept for key in r.versions.items()]
        while todo:
            key = todo.pop()
            if key in needed:
                continue
            needed.add(key)
            blob = stored.get(key)
            if blob is not None and blob.base is not None:
                todo.append((key[0], blob.base))
        for key in [k for k in stored if k not in needed]:
            del stored[key]

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        with self._lock:
            for (tid, ns), records in list(self._records.items()):
                if tid == source_thread_id:
                    target = self._records.setdefault((target_thread_id, ns), {})
                    for cid, r in records.items():
                        target[cid] = replace(r, thread_id=target_thread_id)
            for (tid, ns, cid), writes in list(self._writes.items()):
                if tid == source_thread_id:
                    self._writes.setdefault((target_thread_id, ns, cid), {}).update(writes)
            for (tid, ns), blobs in list(self._blobs.items()):
                if tid == source_thread_id:
                    self._blobs.setdefault((target_thread_id, ns), {}).update(blobs)


MemorySaver = InMemorySaver
"""LangGraph's older name for :class:`InMemorySaver`."""
