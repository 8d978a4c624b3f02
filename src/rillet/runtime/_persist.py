"""Saving a run as it goes, and continuing a saved one (the checkpointer's side of the
loop).

A :class:`Persister` belongs to one graph run on one thread and namespace. It loads the
checkpoint the run starts from, saves one after every step (and the run's input before
the first), and when a step is cut short (a task interrupted or failed) it saves the
finished tasks' writes, so that on resume they are applied instead of run again.

**Storage grows with what changed.** A checkpoint names, per state key, the version of
the value it holds; only keys written in the step get a new blob. A list that the step
only appended to (``add_messages``, ``operator.add``) is stored as the appended items
plus the version it extends, so a 200-turn chat stores each message once; reading any
checkpoint follows the chain back to a full value (one query, see
:meth:`BaseCheckpointSaver.load_blobs`). The last checkpoint of each thread is also kept
decoded in memory (validated by its id), so a chat turn does not decode the whole
history.

All I/O goes through :meth:`Persister._io`: a saver whose sync methods never block
(memory) is called inline; any other is yielded as a :class:`Call`, so ``ainvoke`` runs
it off the event loop (or awaits the saver's async method).
"""

from __future__ import annotations

import operator
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Generator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rillet._constants import START
from rillet.channels import MISSING
from rillet.checkpoint.base import Blob, BlobKey, CheckpointRecord, new_checkpoint_seed
from rillet.errors import CheckpointError, ConfigError, EmptyInputError
from rillet.runtime._effects import Call, Effect, Failure
from rillet.types import Command, Interrupt, Send

if TYPE_CHECKING:
    from rillet.checkpoint.base import BaseCheckpointSaver, PendingWrite
    from rillet.runtime._context import Task
    from rillet.runtime._loop import Loop

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


class Persister:
    """The checkpointer of one graph run (root or subgraph)."""

    __slots__ = (
        "call_results",
        "checkpoint_id",
        "config",
        "depths",
        "durability",
        "fork",
        "interrupt_after",
        "interrupt_before",
        "nested",
        "next_id",
        "ns",
        "parent_ids",
        "resuming",
        "saved",
        "saved_values",
        "saver",
        "serde",
        "skip_before",
        "task_writes",
        "thread_id",
        "versions",
    )

    def __init__(
        self,
        saver: BaseCheckpointSaver,
        config: dict[str, Any],
        ns: str,
        *,
        durability: str = "async",
        interrupt_before: frozenset[str] = frozenset(),
        interrupt_after: frozenset[str] = frozenset(),
        nested: bool = False,
        resuming: bool = False,
        parent_ids: dict[str, str] | None = None,
    ) -> None:
        self.saver = saver
        self.serde = saver.serde
        self.config = config
        self.thread_id = thread_of(config)
        self.ns = ns
        self.durability = durability
        self.interrupt_before = interrupt_before
        self.interrupt_after = interrupt_after
        self.nested = nested
        self.resuming = resuming
        self.parent_ids = parent_ids or {}
        self.checkpoint_id: str | None = None
        self.versions: dict[str, str] = {}
        self.depths: dict[str, int] = {}
        self.saved_values: dict[str, Any] = {}
        self.saved: Saved | None = None
        #: Writes of the step a resumed run starts with, by task id (used once).
        self.task_writes: dict[str, TaskWrites] | None = None
        self.skip_before = False
        #: The run replays from a past checkpoint: it starts by saving a fork of it.
        self.fork = False
        #: Results of functional-API task calls an earlier attempt of the step saved,
        #: by call id (``rillet.func``): they are not run again.
        self.call_results: dict[str, Any] | None = None
        #: With ``durability="exit"``: the id the next save takes, drawn when a step's
        #: save was skipped. The steps after it plan their task ids from it, so the
        #: checkpoint saved at exit (or at an error or interrupt) finds its tasks'
        #: pending writes and interrupt ids again, as LangGraph's does.
        self.next_id: str | None = None

    # ------------------------------------------------------------------ I/O

    def _io(self, method: str, *args: Any) -> Generator[Effect, Any, Any]:
        saver = self.saver
        fn = getattr(saver, method)
        if not saver.blocking:
            return fn(*args)
        result = yield Call(fn, args, afn=getattr(saver, "a" + method))
        if result.__class__ is Failure:
            raise result.error
        return result

    def load(self, checkpoint_id: str | None) -> Generator[Effect, Any, Saved | None]:
        found = yield from self._io("load", self.thread_id, self.ns, checkpoint_id)
        if found is None:
            return None
        record, writes = found
        state = self.serde.loads(record.state)
        hot = _hot(self.saver).get((self.thread_id, self.ns))
        if hot is not None and hot[0] == record.checkpoint_id:
            values = {k: _copy(v) for k, v in hot[1].items()}
        else:
            keys = list(record.versions.items())
            chains = (yield from self._io("load_blobs", self.thread_id, self.ns, keys)) if keys \
                else {}
            values = {}
            for key in keys:
                chain = chains.get(key)
                if chain is None:
                    raise CheckpointError(
                        f"Checkpoint {record.checkpoint_id!r} of thread {self.thread_id!r} "
                        f"names value {key[1]!r} of {key[0]!r}, which the saver does not have"
                    )
                values[key[0]] = self._decode_chain(chain)
        return Saved(record, state, values, writes, self.serde)

    def _decode_chain(self, chain: Sequence[bytes]) -> Any:
        loads = self.serde.loads
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

    # ------------------------------------------------------------- starting

    def begin(self, loop: Loop, input: Any) -> Generator[Effect, Any, str]:
        """Load what the run starts from. Returns ``"fresh"`` (apply ``input``),
        ``"continue"`` (resume the saved step) or ``"input"`` (the saved checkpoint is
        an input checkpoint: apply its input)."""
        configurable = self.config.get("configurable") or {}
        wanted = None if self.nested else configurable.get("checkpoint_id")
        saved = yield from self.load(wanted)
        if wanted is not None and saved is None:
            raise CheckpointError(
                f"Thread {self.thread_id!r} has no checkpoint {wanted!r}"
                f"{f' in namespace {self.ns!r}' if self.ns else ''}: "
                f"get_state_history(config) lists the ones it has."
            )
        command = input if isinstance(input, Command) else None
        if command is not None and command.graph is not None:
            raise CheckpointError(
                "A Command given as the run's input cannot have graph=...: only a node can "
                "send a Command to its parent graph."
            )
        continuing = input is None or command is not None or self.resuming
        if saved is None:
            if self.nested:
                return "fresh"
            if command is not None and command.resume is not None:
                raise CheckpointError(
                    f"Command(resume=...) for thread {self.thread_id!r}, which has no saved "
                    f"state: nothing is paused there. Start the thread with an input first."
                )
            if input is None:
                raise EmptyInputError(
                    "Received no input for __start__: thread "
                    f"{self.thread_id!r} has no saved state to continue, so pass an input."
                )
            if command is not None:
                raise CheckpointError(
                    f"A Command as the input of thread {self.thread_id!r}, which has no "
                    f"saved state: start the thread with a dict input first."
                )
            self.checkpoint_id = None
            return "fresh"
        self._restore(loop, saved)
        if wanted is not None:
            self.skip_before = True
        if not continuing:
            # A new input on a thread: the saved state and what it left pending stay.
            self.task_writes = None
            return "fresh"
        self.skip_before = True
        if wanted is not None and saved.input is MISSING:
            latest = yield from self._io("load", self.thread_id, self.ns, None)
            if latest is not None and latest[0].checkpoint_id != wanted:
                # Time travel: the past is replayed on a new branch, from a fork of the
                # checkpoint; interrupts on the way ask again.
                self.fork = True
                self.task_writes = None
        if command is not None:
            self._command(loop, command, saved)
        if saved.input is not MISSING:
            return "input"
        return "continue"

    def _restore(self, loop: Loop, saved: Saved) -> None:
        from rillet.runtime._steps import RunSnapshot

        record = saved.record
        self.saved = saved
        self.checkpoint_id = record.checkpoint_id
        self.versions = dict(record.versions)
        self.depths = dict(saved.depths)
        loop.restore(RunSnapshot(saved.step, saved.values, saved.pending, saved.sends,
                                 saved.barriers))
        loop.step_limit = saved.step + loop.limit + 2
        self.saved_values = dict(loop.values)
        loop.run.seed = uuid.UUID(record.checkpoint_id)
        self.task_writes = saved.task_writes
        null = saved.task_writes.get(NULL_TASK_ID)
        if null is not None and null.writes:
            loop.apply_writes(null.writes, START)

    def _command(self, loop: Loop, command: Command[Any], saved: Saved) -> None:
        if command.resume is not None:
            loop.run.settings.resume_map = self._resume_map(command.resume, saved)
        updates: list[tuple[str, Any]] = []
        if command.update is not None:
            updates = loop.command_writes(command.update)
            loop.apply_writes(updates, START)
        if command.goto:
            loop.route_from_start(command.goto)
        if updates:
            writes = self.task_writes.setdefault(NULL_TASK_ID, TaskWrites()) \
                if self.task_writes is not None else None
            if writes is not None:
                writes.writes.extend(updates)

    def _resume_map(self, resume: Any, saved: Saved) -> dict[str, Any]:
        pending: list[Interrupt] = []
        for entry in saved.task_writes.values():
            if entry.goto is None:
                for one in entry.interrupts:
                    if one.id not in (entry.resume or {}):
                        pending.append(one)
        ids = [one.id for one in pending]
        if not pending:
            raise CheckpointError(
                f"Command(resume=...) for thread {self.thread_id!r}, which has no pending "
                f"interrupt: nothing is waiting for an answer. Use get_state(config) to see "
                f"the thread, or invoke(None, config) to continue a stopped run."
            )
        if isinstance(resume, dict) and resume and all(_is_interrupt_id(k) for k in resume):
            unknown = [k for k in resume if k not in ids]
            if unknown:
                raise CheckpointError(
                    f"Command(resume={{...}}) names interrupt id(s) {unknown} that are not "
                    f"pending in thread {self.thread_id!r}; pending: {ids}"
                )
            return dict(resume)
        if len(pending) > 1:
            raise CheckpointError(
                f"{len(pending)} interrupts are pending in thread {self.thread_id!r}: answer "
                f"each by id, Command(resume={{interrupt_id: value, ...}}); ids: {ids}"
            )
        return {ids[0]: resume}

    # ------------------------------------------------------------- the step

    def prepare(self, tasks: Sequence[Task]) -> None:
        """Give the first step of a resumed run what its earlier attempt saved:
        finished tasks take their writes, interrupted ones their answers."""
        saved, self.task_writes = self.task_writes, None
        if not saved:
            return
        fresh = tasks[0].run.settings.resume_map or {} if tasks else {}
        planned = {task.id for task in tasks}
        for tid, stored in saved.items():
            if tid not in planned and stored.goto is not None and stored.writes:
                # A task call of the functional API that finished: its return value.
                if self.call_results is None:
                    self.call_results = {}
                self.call_results[tid] = stored.writes[0][1]
        for task in tasks:
            entry = saved.get(task.id)
            if entry is None:
                continue
            if entry.goto is not None:
                task.done = True
                task.writes = list(entry.writes)
                task.goto = list(entry.goto)
                task.result = dict(entry.writes)
                continue
            task.resume = dict(entry.resume) if entry.resume else None
            if entry.paused:
                task.resuming = True
                answered = set(fresh) | set(task.resume or ())
                if entry.interrupts and not any(one.id in answered for one in entry.interrupts):
                    task.interrupts = entry.interrupts  # still waiting: not run again
                    task.paused = True

    def should_stop_before(self, tasks: Sequence[Task]) -> bool:
        if self.skip_before:
            self.skip_before = False
            return False
        before = self.interrupt_before
        return bool(before) and any(t.name in before or "*" in before for t in tasks)

    def should_stop_after(self, tasks: Sequence[Task]) -> bool:
        after = self.interrupt_after
        return bool(after) and any(t.name in after or "*" in after for t in tasks)

    # ---------------------------------------------------------------- saving

    def save(self, loop: Loop, source: str, tasks: Sequence[Task] = (), *,
             input: Any = MISSING, step: int | None = None) -> Generator[Effect, Any, None]:
        """Save the run's state as a new checkpoint."""
        snap = loop.snapshot()
        values = snap.values
        if self.next_id is not None:
            new_id, seed, self.next_id = self.next_id, loop.run.seed, None
        else:
            new_id, seed = new_checkpoint_seed()
        blobs = self._value_blobs(values, new_id)
        state: dict[str, Any] = {
            "step": snap.step if step is None else step,
            "pending": snap.pending_nodes,
            "sends": snap.pending_sends,
            "barriers": snap.barriers,
            "depths": dict(self.depths),
        }
        if tasks:
            state["ran"] = [[t.id, t.name, list(t.path), dict(t.writes)] for t in tasks]
        if input is not MISSING:
            state["input"] = input
        parent_id = self.checkpoint_id
        record = CheckpointRecord(
            self.thread_id, self.ns, new_id, parent_id, _now(),
            self._metadata(source, state["step"]), self._dump_state(state), dict(self.versions),
        )
        yield from self._io("save", record, blobs)
        self.checkpoint_id = new_id
        self.saved_values = values
        loop.run.seed = seed
        self._keep_hot(values, new_id, parent_id, blobs)
        if loop.observers:
            for observer in loop.observers:
                observer.checkpoint_saved(loop, record, state)

    def skip_save(self, loop: Loop) -> None:
        """``durability="exit"``: a step ends without a save. Draw the id the checkpoint
        would have had, and seed the next step's task ids with it."""
        self.next_id, loop.run.seed = new_checkpoint_seed()

    def _value_blobs(self, values: Mapping[str, Any], new_id: str) -> dict[BlobKey, Blob]:
        """The blobs of the values that changed since the last save, versioned
        ``new_id``: a list that only grew is stored as a delta over its last blob."""
        dumps = self.serde.dumps
        old_values, versions, depths = self.saved_values, self.versions, self.depths
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

    def _dump_state(self, state: dict[str, Any]) -> bytes:
        """The checkpoint's own record as the serializer writes it.

        Only the values from nodes (sends, task writes, the input) and the barriers'
        sets go through the serializer's walk; the loop's bookkeeping is written as the
        JSON data it is (unless a node or key is named like the serializer's tag). Empty
        parts are left out: :class:`Saved` reads them as empty. A serializer class that
        overrides ``dumps`` gets the whole record."""
        serde = self.serde
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
            doc["ran"] = [[tid, name, enc(path), enc(writes)]
                          for tid, name, path, writes in state["ran"]]
        if "input" in state:
            doc["input"] = enc(state["input"])
        return serde.dumps_encoded(doc)

    def _keep_hot(self, values: Mapping[str, Any], new_id: str, parent_id: str | None,
                  blobs: Mapping[BlobKey, Blob]) -> None:
        """Keep copies of the values just saved, so that the next run on this thread
        starts without reading them back."""
        hot, space = _hot(self.saver), (self.thread_id, self.ns)
        last = hot.get(space)
        # A value this save did not store keeps its version: the parent's entry holds
        # a copy of it already.
        kept = last[1] if last is not None and last[0] == parent_id else {}
        copies = {k: kept[k] if k in kept and (k, new_id) not in blobs else _copy(v)
                  for k, v in values.items()}
        with _hot_lock:
            hot.pop(space, None)
            hot[space] = (new_id, copies)
            if len(hot) > HOT_THREADS:
                hot.popitem(last=False)

    def save_step_writes(self, loop: Loop, tasks: Sequence[Task]) -> Generator[Effect, Any, None]:
        """A step was cut short: save what its tasks got done (a checkpoint first, when
        the run saves only at exit)."""
        from rillet.checkpoint.base import PendingWrite

        if self.checkpoint_id is None or self.durability == "exit":
            yield from self.save(loop, "loop")
        dumps = self.serde.dumps
        writes: list[PendingWrite] = []
        for task in tasks:
            tid = task.id
            if task.done:
                for i, (channel, value) in enumerate(task.writes):
                    writes.append(PendingWrite(tid, i, channel, dumps(value)))
                writes.append(PendingWrite(tid, len(task.writes), ROUTE, dumps(task.goto)))
                continue
            if task.paused:
                writes.append(PendingWrite(tid, -3, INTERRUPT, dumps(list(task.interrupts))))
            if task.resume:
                writes.append(PendingWrite(tid, -4, RESUME, dumps(task.resume)))
            if task.error is not None and not task.abandoned:
                writes.append(PendingWrite(tid, -1, ERROR, dumps(repr(task.error))))
            if task.calls is not None:
                for call_id, value in task.calls.unsaved():
                    writes.append(PendingWrite(call_id, 0, RETURN, dumps(value)))
                    writes.append(PendingWrite(call_id, 1, ROUTE, dumps([])))
        if writes:
            assert self.checkpoint_id is not None
            yield from self._io("save_writes", self.thread_id, self.ns, self.checkpoint_id,
                                writes)

    def _metadata(self, source: str, step: int) -> dict[str, Any]:
        meta: dict[str, Any] = {"source": source, "step": step, "parents": dict(self.parent_ids)}
        config = self.config
        for part in (config.get("metadata"), config.get("configurable")):
            if part:
                for key, value in part.items():
                    if (key not in _EXCLUDED_METADATA and not key.startswith("__")
                            and key not in meta and isinstance(value, str | int | float | bool)):
                        meta[key] = value.replace("\x00", "") if isinstance(value, str) \
                            else value
        return meta


def thread_of(config: Mapping[str, Any]) -> str:
    configurable = config.get("configurable") or {}
    thread = configurable.get("thread_id")
    if thread is None:
        raise ConfigError(
            "A graph with a checkpointer needs a thread: pass config={'configurable': "
            "{'thread_id': ...}} (any string naming the conversation or job)."
        )
    return str(thread)


def _is_interrupt_id(key: Any) -> bool:
    return isinstance(key, str) and len(key) == 32 and all(c in "0123456789abcdef" for c in key)


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


def _copy(value: Any) -> Any:
    cls = value.__class__
    if cls is list or cls is dict or cls is set:
        return value.copy()
    return value


def _now() -> str:
    """``datetime.now(UTC).isoformat()``, with the text of the second reused:
    formatting a datetime was a twentieth of a checkpoint save."""
    seconds, us = divmod(time.time_ns() // 1000, 1_000_000)
    last = _second[0]
    if last[0] != seconds:
        last = _second[0] = (seconds, datetime.fromtimestamp(seconds, UTC).isoformat()[:-6])
    return f"{last[1]}.{us:06d}+00:00" if us else f"{last[1]}+00:00"


#: The second :func:`_now` last formatted, and its text.
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

