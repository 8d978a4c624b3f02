"""Checkpoints as rillet stores them: the record's encoding, values stored by delta, a
checkpoint decoded (:class:`Saved`, with its pending writes grouped by task), and the
decoded last checkpoint of each thread kept in memory.

**Storage grows with what changed.** A checkpoint names, per state key, the version of
the value it holds; only keys written in the step get a new blob. A list that the step
only appended to (``add_messages``, ``operator.add``) is stored as the appended items
plus the version it extends, so a 200-turn chat stores each message once; reading any
checkpoint follows the chain back to a full value (one query, see
:meth:`BaseCheckpointSaver.load_blobs`). The last checkpoint of each thread is also kept
decoded in memory (validated by its id), so a chat turn does not decode the whole
history.
"""

from __future__ import annotations

import operator
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rillet.channels import MISSING
from rillet.checkpoint.base import Blob, BlobKey, CheckpointRecord
from rillet.errors import CheckpointError
from rillet.types import Interrupt, Send

if TYPE_CHECKING:
    from rillet.checkpoint.base import PendingWrite
    from rillet.checkpoint.serde import Serializer


ROUTE = "__route__"
INTERRUPT = "__interrupt__"
RESUME = "__resume__"
ERROR = "__error__"
#: The channel of a functional-API task call's return value.
RETURN = "__return__"
NULL_TASK_ID = "00000000-0000-0000-0000-000000000000"
#: ``a is b``, for whole lists at C speed (a list that only grew is saved as a delta).
_is = operator.is_
#: The serializer's tag key (``rillet.checkpoint.serde``): a dict holding it is not
#: JSON data as it is.
_TAG = "!"
#: Deltas in a row before a list is written whole again (bounds a cold read).
MAX_CHAIN = 2000
#: Threads whose last checkpoint is kept decoded, per saver.
HOT_THREADS = 1024

#: Keys of ``configurable``/``metadata`` that are not copied into checkpoint metadata.
_EXCLUDED_METADATA = frozenset({
    "thread_id", "checkpoint_id", "checkpoint_ns", "checkpoint_map", "task_id",
    "langgraph_step", "langgraph_node", "langgraph_triggers", "langgraph_path",
    "langgraph_checkpoint_ns",
})


_CORRUPT = (
    "A saved list value is corrupt (a delta that is not a list): the checkpoint store was "
    "changed outside rillet. Read an earlier checkpoint, or delete the thread."
)


class Saved:
    """A checkpoint, decoded."""

    __slots__ = (
        "barriers", "depths", "input", "pending", "ran", "record", "sends", "step",
        "stopped", "task_writes", "values",
    )

    def __init__(self, record: CheckpointRecord, state: dict[str, Any],
                 values: dict[str, Any], writes: Sequence[PendingWrite], serde: Any) -> None:
        self.record = record
        self.values = values
        self.step: int = state["step"]
        self.pending: dict[str, list[str]] = state.get("pending") or {}
        self.sends: list[Send] = state.get("sends") or []
        self.barriers: dict[str, set[str]] = state.get("barriers") or {}
        self.depths: dict[str, int] = state.get("depths") or {}
        self.ran: list[Any] = state.get("ran") or []
        self.input: Any = state.get("input", MISSING)
        self.stopped: bool = state.get("stopped", False)
        self.task_writes = group_writes(writes, serde)


class TaskWrites:
    """What an earlier attempt of a step saved for one task."""

    __slots__ = ("error", "goto", "interrupts", "paused", "resume", "writes")

    def __init__(self) -> None:
        self.writes: list[tuple[str, Any]] = []
        self.goto: list[Any] | None = None  # set when the task finished
        self.interrupts: tuple[Interrupt, ...] = ()
        self.paused = False  # the task paused (maybe without interrupts: a subgraph's
        # interrupt_before/after)
        self.resume: dict[str, Any] | None = None
        self.error: str | None = None


def group_writes(writes: Sequence[PendingWrite], serde: Any) -> dict[str, TaskWrites]:
    grouped: dict[str, TaskWrites] = {}
    for write in writes:
        entry = grouped.get(write.task_id)
        if entry is None:
            entry = grouped[write.task_id] = TaskWrites()
        value = serde.loads(write.data)
        channel = write.channel
        if channel == ROUTE:
            entry.goto = list(value)
        elif channel == INTERRUPT:
            entry.interrupts = tuple(value)
            entry.paused = True
        elif channel == RESUME:
            entry.resume = dict(value)
        elif channel == ERROR:
            entry.error = value
        else:
            entry.writes.append((channel, value))
    return grouped


def resume_map(resume: Any, saved: Saved, thread_id: str) -> dict[str, Any]:
    """What a ``Command(resume=...)`` answers: the pending interrupts of ``saved`` by
    id (``thread_id`` names the thread in errors)."""
    pending: list[Interrupt] = []
    for entry in saved.task_writes.values():
        if entry.goto is None:
            for one in entry.interrupts:
                if one.id not in (entry.resume or {}):
                    pending.append(one)
    ids = [one.id for one in pending]
    if not pending:
        raise CheckpointError(
            f"Command(resume=...) for thread {thread_id!r}, which has no pending "
            f"interrupt: nothing is waiting for an answer. Use get_state(config) to see "
            f"the thread, or invoke(None, config) to continue a stopped run."
        )
    if isinstance(resume, dict) and resume and all(_is_interrupt_id(k) for k in resume):
        unknown = [k for k in resume if k not in ids]
        if unknown:
            raise CheckpointError(
                f"Command(resume={{...}}) names interrupt id(s) {unknown} that are not "
                f"pending in thread {thread_id!r}; pending: {ids}"
            )
        return dict(resume)
    if len(pending) > 1:
        raise CheckpointError(
            f"{len(pending)} interrupts are pending in thread {thread_id!r}: answer "
            f"each by id, Command(resume={{interrupt_id: value, ...}}); ids: {ids}"
        )
    return {ids[0]: resume}


def _is_interrupt_id(key: Any) -> bool:
    return isinstance(key, str) and len(key) == 32 and all(c in "0123456789abcdef" for c in key)


def decode_chain(serde: Serializer, chain: Sequence[bytes]) -> Any:
    """A value from its blob chain, base first: a list and the items appended to it."""
    loads = serde.loads
    value = loads(chain[0])
    if len(chain) == 1:
        return value
    if value.__class__ is not list:
        raise CheckpointError(_CORRUPT)
    items = list(value)
    for delta in chain[1:]:
        part = loads(delta)
        if part.__class__ is not list:
            raise CheckpointError(_CORRUPT)
        items.extend(part)
    return items


def value_blobs(
    serde: Serializer, values: Mapping[str, Any], old_values: Mapping[str, Any],
    versions: dict[str, str], depths: dict[str, int], new_id: str,
) -> dict[BlobKey, Blob]:
    """The blobs of the values that changed since ``old_values`` (the last save),
    versioned ``new_id``: a list that only grew is stored as a delta over its last
    blob. Updates ``versions`` and ``depths`` (delta chain lengths) to match."""
    dumps = serde.dumps
    blobs: dict[BlobKey, Blob] = {}
    for key, value in values.items():
        old = old_values.get(key, MISSING)
        if value is old and key in versions:
            continue
        base = versions.get(key)
        depth = depths.get(key, 0)
        if (base is not None and value.__class__ is list and old.__class__ is list
                and len(value) > len(old) and depth < MAX_CHAIN
                and all(map(_is, old, value))):
            blobs[(key, new_id)] = Blob(dumps(value[len(old):]), base)
            depths[key] = depth + 1
        else:
            blobs[(key, new_id)] = Blob(dumps(value))
            depths[key] = 0
        versions[key] = new_id
    return blobs


def dump_state(serde: Serializer, state: dict[str, Any]) -> bytes:
    """The checkpoint's own record as the serializer writes it.

    Only the values from nodes (sends, task writes, the input) and the barriers'
    sets go through the serializer's walk; the loop's bookkeeping is written as the
    JSON data it is (unless a node or key is named like the serializer's tag). Empty
    parts are left out: :class:`Saved` reads them as empty. A serializer class that
    overrides ``dumps`` gets the whole record."""
    if not _builtin_encoding(serde):
        return serde.dumps(state)
    enc = serde.encode
    pending, sends, barriers, depths = (
        state["pending"], state["sends"], state["barriers"], state["depths"])
    doc: dict[str, Any] = {"step": state["step"]}
    if pending:
        doc["pending"] = enc(pending) if _TAG in pending else pending
    if sends:
        doc["sends"] = enc(sends)
    if barriers:
        doc["barriers"] = enc(barriers)
    if depths:
        doc["depths"] = enc(depths) if _TAG in depths else depths
    if "ran" in state:
        doc["ran"] = [[tid, name, enc(writes)] for tid, name, writes in state["ran"]]
    if "input" in state:
        doc["input"] = enc(state["input"])
    return serde.dumps_encoded(doc)


def _builtin_encoding(serde: Any) -> bool:
    """Whether ``serde`` writes as :class:`Serializer` does (it may add types)."""
    cls = serde.__class__
    known = _ENCODINGS.get(cls)
    if known is None:
        from rillet.checkpoint.serde import Serializer

        known = _ENCODINGS[cls] = (issubclass(cls, Serializer) and cls.dumps is Serializer.dumps
                                   and cls.encode is Serializer.encode)
    return known


#: Serializer class -> whether it writes as ``Serializer`` does (checked once per class).
_ENCODINGS: dict[type, bool] = {}


def checkpoint_metadata(
    config: Mapping[str, Any], parent_ids: Mapping[str, str], source: str, step: int
) -> dict[str, Any]:
    """A checkpoint's metadata: its source and step, the parents' checkpoint ids, and
    the run's plain ``metadata``/``configurable`` values."""
    meta: dict[str, Any] = {"source": source, "step": step, "parents": dict(parent_ids)}
    for part in (config.get("metadata"), config.get("configurable")):
        if part:
            for key, value in part.items():
                if (key not in _EXCLUDED_METADATA and not key.startswith("__")
                        and key not in meta and isinstance(value, str | int | float | bool)):
                    meta[key] = value.replace("\x00", "") if isinstance(value, str) \
                        else value
    return meta


def hot_values(saver: Any, space: tuple[str, str], checkpoint_id: str) -> dict[str, Any] | None:
    """Copies of checkpoint ``checkpoint_id``'s values, when it is the one kept decoded
    for ``space`` (thread and namespace)."""
    hot = _hot(saver).get(space)
    if hot is not None and hot[0] == checkpoint_id:
        return {k: _copy(v) for k, v in hot[1].items()}
    return None


def keep_hot(saver: Any, space: tuple[str, str], values: Mapping[str, Any],
             checkpoint_id: str) -> None:
    """Keep copies of the values of checkpoint ``checkpoint_id`` (``space``: thread
    and namespace), so that the next run on this thread starts without reading them
    back."""
    hot = _hot(saver)
    copies = {k: _copy(v) for k, v in values.items()}
    new_id = checkpoint_id
    with _hot_lock:
        hot.pop(space, None)
        hot[space] = (new_id, copies)
        if len(hot) > HOT_THREADS:
            hot.popitem(last=False)


def _copy(value: Any) -> Any:
    cls = value.__class__
    if cls is list or cls is dict or cls is set:
        return value.copy()
    return value


def now() -> str:
    """``datetime.now(UTC).isoformat()``, with the text of the second reused:
    formatting a datetime was a twentieth of a checkpoint save."""
    seconds, us = divmod(time.time_ns() // 1000, 1_000_000)
    last = _second[0]
    if last[0] != seconds:
        last = _second[0] = (seconds, datetime.fromtimestamp(seconds, UTC).isoformat()[:-6])
    return f"{last[1]}.{us:06d}+00:00" if us else f"{last[1]}+00:00"


#: The second :func:`now` last formatted, and its text.
_second: list[tuple[int, str]] = [(-1, "")]


_hot_lock = threading.Lock()


def _hot(saver: Any) -> OrderedDict[tuple[str, str], tuple[str, dict[str, Any]]]:
    cache = saver.__dict__.get("_rillet_hot")
    if cache is None:
        with _hot_lock:
            cache = saver.__dict__.setdefault("_rillet_hot", OrderedDict())
    return cache  # type: ignore[no-any-return]


def forget_thread(saver: Any, thread_id: str) -> None:
    """Drop a thread's decoded last checkpoint (after it was deleted or pruned)."""
    cache = saver.__dict__.get("_rillet_hot")
    if cache:
        with _hot_lock:
            for key in [k for k in cache if k[0] == thread_id]:
                del cache[key]
