"""Saving a run as it goes, and continuing a saved one (the checkpointer's side of the
loop).

A :class:`Persister` belongs to one graph run on one thread and namespace. It loads the
checkpoint the run starts from, saves one after every step (and the run's input before
the first), and when a step is cut short (a task interrupted or failed) it saves the
finished tasks' writes, so that on resume they are applied instead of run again. How a
checkpoint is encoded (values by delta) and decoded is :mod:`._saved`.

All I/O goes through :meth:`Persister._io`: a saver whose sync methods never block
(memory) is called inline; any other is yielded as a :class:`Call`, so ``ainvoke`` runs
it off the event loop (or awaits the saver's async method).

**Stopping at a checkpoint** (for servers that shut down gracefully): a root run whose
``config["configurable"][DRAIN_KEY]`` is a callable asks it after each step it saved;
when it answers ``True`` the run returns its state there, as if the graph ended, but
with its next step not run and no interrupt: ``invoke(None, config)`` goes on from
that checkpoint. Keys in ``__...__`` stay out of checkpoint metadata.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rillet._constants import START
from rillet.channels import MISSING
from rillet.checkpoint.base import CheckpointRecord, new_checkpoint_seed
from rillet.errors import CheckpointError, ConfigError, EmptyInputError
from rillet.runtime._effects import Call, Effect, Failure
from rillet.runtime._saved import (
    ERROR,
    INTERRUPT,
    NULL_TASK_ID,
    RESUME,
    RETURN,
    ROUTE,
    Saved,
    TaskWrites,
    checkpoint_metadata,
    decode_chain,
    dump_state,
    hot_values,
    keep_hot,
    now,
    resume_map,
    value_blobs,
)
from rillet.types import Command

if TYPE_CHECKING:
    from collections.abc import Callable

    from rillet.checkpoint.base import BaseCheckpointSaver, PendingWrite
    from rillet.runtime._context import Task
    from rillet.runtime._loop import Loop

#: The config key of a root run's stop-at-the-next-checkpoint callable (module doc).
DRAIN_KEY = "__rillet_drain__"


class Persister:
    """The checkpointer of one graph run (root or subgraph)."""

    __slots__ = (
        "call_results",
        "checkpoint_id",
        "config",
        "depths",
        "drain",
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
        #: Asked after each saved step of a root run: stop there? (module doc)
        self.drain: Callable[[], bool] | None = None if nested else (
            (config.get("configurable") or {}).get(DRAIN_KEY))
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
        values = hot_values(self.saver, (self.thread_id, self.ns), record.checkpoint_id)
        if values is None:
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
                values[key[0]] = decode_chain(self.serde, chain)
        return Saved(record, state, values, writes, self.serde)

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
            if not self.nested:
                self._check_fresh(input, command)
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

    def _check_fresh(self, input: Any, command: Command[Any] | None) -> None:
        """Refuse an input that needs saved state on a thread that has none."""
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
            loop.run.settings.resume_map = resume_map(command.resume, saved, self.thread_id)
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
        blobs = value_blobs(self.serde, values, self.saved_values, self.versions, self.depths,
                            new_id)
        state: dict[str, Any] = {
            "step": snap.step if step is None else step,
            "pending": snap.pending_nodes,
            "sends": snap.pending_sends,
            "barriers": snap.barriers,
            "depths": dict(self.depths),
        }
        if tasks:
            state["ran"] = [[t.id, t.name, dict(t.writes)] for t in tasks]
        if input is not MISSING:
            state["input"] = input
        parent_id = self.checkpoint_id
        record = CheckpointRecord(
            self.thread_id, self.ns, new_id, parent_id, now(),
            checkpoint_metadata(self.config, self.parent_ids, source, state["step"]),
            dump_state(self.serde, state), dict(self.versions),
        )
        yield from self._io("save", record, blobs)
        self.checkpoint_id = new_id
        self.saved_values = values
        loop.run.seed = seed
        if loop.observers:
            for observer in loop.observers:
                observer.checkpoint_saved(loop, record, state)

    def remember(self) -> None:
        """The run ended: keep its last checkpoint's values decoded for the next run
        on the thread (once per run, not per save: values are treated as immutable)."""
        if self.checkpoint_id is not None:
            keep_hot(self.saver, (self.thread_id, self.ns), self.saved_values,
                     self.checkpoint_id)

    def skip_save(self, loop: Loop) -> None:
        """``durability="exit"``: a step ends without a save. Draw the id the checkpoint
        would have had, and seed the next step's task ids with it."""
        self.next_id, loop.run.seed = new_checkpoint_seed()

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


def thread_of(config: Mapping[str, Any]) -> str:
    configurable = config.get("configurable") or {}
    thread = configurable.get("thread_id")
    if thread is None:
        raise ConfigError(
            "A graph with a checkpointer needs a thread: pass config={'configurable': "
            "{'thread_id': ...}} (any string naming the conversation or job)."
        )
    return str(thread)
