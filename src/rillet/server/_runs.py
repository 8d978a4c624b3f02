"""Running runs: each in its own asyncio task, every event logged before it is seen.

A :class:`RunManager` starts a run as a task on the server's loop. The task streams
the graph and hands each item, as an event, to the run's writer, which appends it to
the run's log in storage (which gives it its sequence number, the SSE ``id``) and
only then wakes the followers. The writer runs whenever the run's task waits, so a
burst of items (all that the graph produced meanwhile, up to :data:`MAX_BATCH`) is one
transaction and one wake-up; an event is committed before anyone can see it, and a
crash loses at most events nobody was sent.
Clients never get events from the task: they *follow* the log (:meth:`follow`), from
the start or after a ``Last-Event-ID``, so a stream, a join and a reconnect read the
same events in the same order, whatever they missed. A run's life does not depend on
its clients.

Runs of one thread run one at a time (``multitask_strategy="enqueue"`` waits for the
thread's lock; ``"reject"`` is refused with 409 before the run is created), and at most
``max_running`` runs execute at once (``--n-jobs-per-worker``, as LangGraph's server
calls it); the others stay ``pending`` until a slot frees up. An open stream of a
pending run costs only its connection, not a graph run. A run with a start time
(``after_seconds``: ``RunSpec.start_at``, kept in the record as ``_start_at``) stays
``pending`` until then, then queues for the lock and a slot; across a restart too.

**Restart.** A run's record keeps what it was asked to do (``kwargs``). When the
server stops (Ctrl-C: :meth:`drain`) or is killed, runs still ``pending`` or
``running`` stay so in storage; at the next start :meth:`recover` starts each again, in
creation order (a run that had started as its next attempt, a pending one as its
first): a run that had saved a checkpoint of its own
continues from the thread's last checkpoint (input ``None``: the nodes that finished
before it do not run again, the step that was in flight runs again); one that had not
starts from its input. The attempt appends to the same log, whose ids go on: it first
logs ``metadata {"run_id", "attempt": n}`` (the mark of the restart; LangGraph's server
sends one per attempt too), then what the continued run streams, beginning (with
``values``) with the state of the checkpoint it continues from. Nothing logged is ever
changed or dropped, so every id is sent once; the events a cut-short step logged before
the mark are followed, after it, by those of the step's re-run.

**Retention.** A run's log is kept ``log_ttl`` seconds after the run ended
(:meth:`sweep_logs`, at start and every :meth:`sweep_interval` seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from rillet.graph import CompiledStateGraph
from rillet.messages import AIMessageChunk, BaseMessage, BaseMessageChunk, message_chunk_to_message
from rillet.runtime._persist import DRAIN_KEY
from rillet.server import _json
from rillet.server._command import to_command
from rillet.server._state import thread_fields_after_run, with_checkpoints
from rillet.server._time import now
from rillet.server.storage import Event, Storage
from rillet.types import StreamMode

__all__ = ["API_STREAM_MODES", "RunManager", "RunSpec", "ServerStopping"]

log = logging.getLogger("rillet.server")
T = TypeVar("T")
_GATE = "(held by a rollback)"  # in _by_thread: the thread is busy, its lock kept

#: Events a run buffers at most before its task waits for the writer.
MAX_BATCH = 1000

#: API stream mode -> (rillet stream mode, SSE event name).
STREAM_MODES: dict[str, tuple[StreamMode, str]] = {
    "values": ("values", "values"),
    "updates": ("updates", "updates"),
    "custom": ("custom", "custom"),
    "messages-tuple": ("messages", "messages"),
    # LangGraph's older form of the same stream: messages/metadata, messages/partial
    # (the message so far), messages/complete (see ``_MessageStream``).
    "messages": ("messages", "messages"),
    "tasks": ("tasks", "tasks"),
    "checkpoints": ("checkpoints", "checkpoints"),
    "debug": ("debug", "debug"),
}
EVENT_NAMES = {rillet: event for rillet, event in STREAM_MODES.values()}
#: Every stream mode a run may ask for: ``events`` sends each event of
#: ``astream_events(version="v2")`` as an ``events`` SSE event (with the others too).
API_STREAM_MODES = (*STREAM_MODES, "events")


class _MessageStream:
    """The ``messages`` stream mode of LangGraph's server, from rillet's
    ``(message, metadata)`` items: the first item of a message id is preceded by
    ``messages/metadata {id: {"metadata": ...}}``; a chunk gives ``messages/partial``
    with the message merged so far (a message, not a chunk), a whole message
    ``messages/complete``; both as a one-message list."""

    def __init__(self) -> None:
        self._so_far: dict[str, BaseMessage] = {}

    def events(self, data: Any) -> list[tuple[str, Any]]:
        message, metadata = data
        key = message.id
        out: list[tuple[str, Any]] = []
        if key not in self._so_far:
            out.append(("metadata", {key: {"metadata": metadata}}))
            merged = message
        else:
            previous = self._so_far[key]
            merged = (previous + message if isinstance(previous, AIMessageChunk)
                      and isinstance(message, AIMessageChunk) else message)
        self._so_far[key] = merged
        if isinstance(message, BaseMessageChunk):
            out.append(("partial", [message_chunk_to_message(merged)]))
        else:
            out.append(("complete", [message]))
        return out


class _LeftForRetry(Exception):
    """The run stopped because the database or the event log is away (``retryable``):
    it is left as it is, for a later attempt from its last checkpoint."""


class ServerStopping(Exception):
    """Raised in the response of a client following a run the server stopped for its
    shutdown: the connection is cut (not ended), so the client reconnects, to the
    server's next start, with ``Last-Event-ID``."""


@dataclass
class RunSpec:
    """What a run executes, taken from the validated request body."""

    run_id: str
    thread_id: str
    graph_id: str
    graph: CompiledStateGraph | None  # None: a resumed run's graph is not served any more
    input: Any
    command: dict[str, Any] | None
    config: dict[str, Any]
    context: Any
    stream_modes: list[str]
    subgraphs: bool
    interrupt_before: Any = None
    interrupt_after: Any = None
    temporary: bool = False  # a stateless run: its thread is deleted when it ends
    durability: Any = None
    attempt: int = 1
    start_at: float | None = None  # UNIX seconds (the manager's clock): not before then
    #: An error to end the run with instead of running it (its attempts are used up).
    refusal: dict[str, str] | None = None
    #: Its record is stored ``running`` already (a scaled deployment's claim did it).
    claimed: bool = False


@dataclass
class _Live:
    """A run in progress: its task, the events not yet written, and the future its
    followers wait on (resolved, and replaced, once per written batch)."""

    task: asyncio.Task[None] | None = None
    changed: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    done: bool = False
    #: The run stopped at a checkpoint because the server drains (see :meth:`drain`).
    drained: bool = False
    #: Its task has begun (a task cancelled before that would skip its clean-up).
    started: bool = False
    cancelled: bool = False
    announced: bool = False  # its metadata event is logged
    #: It waits for its start time (``after_seconds``): a drain stops it at once.
    delayed: bool = False
    #: Another process owns the run now (a scaled deployment's takeover): it stops
    #: without recording anything.
    abandoned: bool = False
    on_done: Callable[[str], object] | None = None
    pending: list[tuple[str, bytes]] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None
    write_error: BaseException | None = None

    def wake(self) -> None:
        old, self.changed = self.changed, self.changed.get_loop().create_future()
        old.set_result(None)


def _resolve(future: asyncio.Future[bool], value: bool, _: object = None) -> None:
    if not future.done():
        future.set_result(value)


class RunManager:
    """Starts runs, keeps their logs, lets clients follow them (see the module doc)."""

    def __init__(self, storage: Storage, saver: Any = None, *, log_ttl: float = 3600.0,
                 drain_timeout: float = 0.0, clock: Callable[[], float] = time.time,
                 max_running: int = 10,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 retryable: Callable[[BaseException], bool] | None = None) -> None:
        if max_running < 1:
            raise ValueError(f"max_running must be at least 1, got {max_running!r}")
        self.storage = storage
        self.saver = saver  # to delete a stateless run's checkpoints
        self.log_ttl = log_ttl
        self.drain_timeout = drain_timeout
        self.clock = clock  # UNIX seconds: when runs end, and the retention sweep
        self.sleep = sleep  # waits for a run's start time (``after_seconds``)
        # errors that leave a run for a later attempt rather than fail it (a scaled
        # deployment's database or Redis away); none in the embedded server
        self.retryable = retryable or (lambda exc: False)
        self._live: dict[str, _Live] = {}
        self._by_thread: dict[str, set[str]] = {}
        self._thread_locks: dict[str, asyncio.Lock] = {}
        self._draining = False
        self.max_running = max_running
        self._slots: asyncio.Semaphore | None = None  # made on the loop, at the first run

    async def thread_busy(self, thread_id: str) -> bool:
        """Whether a run of the thread is pending or running here."""
        return bool(self._by_thread.get(thread_id))

    def start(self, spec: RunSpec, on_done: Callable[[str], object] | None = None) -> None:
        """Start ``spec`` in the background (its run record is already stored). While
        the server drains, the run stays ``pending`` for the next start. ``on_done(run_id)``
        is called once it has stopped, however it did."""
        if self._draining:
            return
        live = _Live(on_done=on_done)
        self._live[spec.run_id] = live
        self._by_thread.setdefault(spec.thread_id, set()).add(spec.run_id)
        live.task = asyncio.get_running_loop().create_task(self._execute(spec, live))

    async def cancel_thread(self, thread_id: str) -> None:
        """Cancel the thread's runs and wait until they have stopped."""
        run_ids = list(self._by_thread.get(thread_id, ()))
        for run_id in run_ids:
            await self.cancel(run_id)
        for run_id in run_ids:
            await self.wait(run_id)

    async def cancel(self, run_id: str) -> bool:
        """Stop a pending or running run; ``False`` if it is not running here."""
        live = self._live.get(run_id)
        if live is None or live.task is None or live.done:
            return False
        # A task cancelled before its first step would never run _execute's clean-up
        # (the record left pending, its followers waiting for ever): flag it instead,
        # and _execute stops as soon as it begins.
        if not live.cancelled:  # once: a second cancel would cut its clean-up short
            live.cancelled = True
            if live.started:
                live.task.cancel()
        return True

    def abandon(self, run_id: str) -> None:
        """Stop a run another process owns now: nothing is recorded or logged."""
        live = self._live.get(run_id)
        if live is not None and live.task is not None and not live.done:
            live.abandoned = True
            live.task.cancel()

    async def end_unstarted(self, spec: RunSpec) -> None:
        """End, as cancelled, a run no task had started (a scaled deployment's pending
        run): its log gets what a run cancelled before it began logs."""
        live = _Live()
        error = {"error": "UserInterrupt", "message": "the run was cancelled"}
        await self._announce(spec, live)
        await self._finish(spec, live, "interrupted", error)
        await self._flush(spec, live)

    @contextlib.asynccontextmanager
    async def holding(self, thread_ids: list[str], cancel: list[str] | None = None,
                      ) -> AsyncIterator[list[str]]:
        """Stop runs and keep their threads to the block (a rollback deletes what they
        saved): queue for each thread's lock at once, cancel ``cancel`` (``None``: every
        run of those threads here), wait for them, then hold the locks, so no run made
        meanwhile starts on a checkpoint the block is about to delete. Yields the ids of
        the runs it stopped."""
        gates = []
        for thread_id in sorted(set(thread_ids)):
            self._by_thread.setdefault(thread_id, set()).add(_GATE)
            lock = self._thread_locks.setdefault(thread_id, asyncio.Lock())
            gates.append((thread_id, lock, asyncio.ensure_future(lock.acquire())))
        if cancel is None:
            cancel = [r for t in thread_ids for r in self._by_thread.get(t, ()) if r != _GATE]
        try:
            for run_id in cancel:
                await self.cancel(run_id)
            for run_id in cancel:
                await self.wait(run_id)
            for _, _, acquired in gates:
                await acquired
            yield cancel
        finally:
            for thread_id, lock, acquired in gates:
                if acquired.done() and not acquired.cancelled():
                    lock.release()
                else:
                    acquired.cancel()
                runs = self._by_thread.get(thread_id)
                if runs is not None:
                    runs.discard(_GATE)
                    if not runs:
                        del self._by_thread[thread_id]
                        self._thread_locks.pop(thread_id, None)

    async def wait(self, run_id: str) -> None:
        """Return once the run has ended (at once if it is not running here)."""
        live = self._live.get(run_id)
        if live is not None and live.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(live.task)

    async def follow(self, run_id: str, after: int = -1, *,
                     idle: float | None = None) -> AsyncIterator[list[Event]]:
        """The run's events after sequence number ``after``, in batches: stored ones
        first, then live ones as they are logged, until the run has ended. With
        ``idle``, an empty batch whenever nothing came for ``idle`` seconds (one timer
        per follower, re-armed when it fires, not per event).

        :raises ServerStopping: the server stopped the run before its end (shutdown).
        """
        loop = asyncio.get_running_loop()
        last = None
        quiet_since = loop.time()
        waiting: asyncio.Future[bool] | None = None  # True: woken by the idle timer
        timer: asyncio.TimerHandle | None = None

        def ring() -> None:
            nonlocal timer
            left = quiet_since + (idle or 0.0) - loop.time()
            if left <= 0 and waiting is not None:
                _resolve(waiting, True)
            timer = loop.call_later(left if left > 0 else idle or 0.0, ring)

        try:
            while True:
                live = self._live.get(run_id)
                changed = live.changed if live is not None else None
                events = await self.storage.read_events(run_id, after)
                if events:
                    after, last = events[-1].seq, events[-1].event
                    yield events
                    quiet_since = loop.time()
                    continue
                if live is None or live.done or changed is None:
                    if self._draining and last != "end":
                        raise ServerStopping(run_id)
                    if last != "end" and await self.storage.get_run(run_id) is None:
                        # deleted before its end (a rollback, its thread deleted): say so
                        # rather than end the stream mid-run
                        yield [Event(after + 1, "error", _json.dumps({
                            "error": "RunDeleted", "message": f"run {run_id} was deleted "
                            "before it ended (rolled back by a later run, or its thread "
                            "deleted)"}))]
                    return
                if idle is not None and timer is None:
                    timer = loop.call_later(idle, ring)
                waiting = loop.create_future()
                changed.add_done_callback(partial(_resolve, waiting, False))
                heartbeat = await waiting
                waiting = None
                if heartbeat:
                    yield []
                    quiet_since = loop.time()
        finally:
            if timer is not None:
                timer.cancel()

    @property
    def draining(self) -> bool:
        """Whether the server is shutting down (see :meth:`drain`)."""
        return self._draining

    async def drain(self) -> None:
        """Server shutdown: no run starts any more; each running run goes on to the end
        of the step it is in and stops at the checkpoint saved there, for up to
        ``drain_timeout`` seconds, then the runs still going are cancelled (their step
        in flight runs again at the next start). Either way they stay
        ``pending``/``running`` in storage for :meth:`recover` at the next start, and
        their followers' streams end without ``end``."""
        self._draining = True
        tasks = [live.task for live in self._live.values() if live.task and not live.done]
        for live in self._live.values():
            if live.delayed and live.task is not None:  # nothing to finish: stop it now
                live.task.cancel()
        if tasks and self.drain_timeout > 0:
            log.warning("stopping: %d run(s) go on to their next checkpoint (up to %g s)",
                        len(tasks), self.drain_timeout)
            await asyncio.wait(tasks, timeout=self.drain_timeout)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    aclose = drain

    async def recover(self, graphs: dict[str, CompiledStateGraph]) -> int:
        """Start again the runs a stopped server left ``pending``/``running`` (see the
        module doc); how many."""
        runs = await self.storage.unfinished_runs()
        for run in runs:
            self.start(await self._resumed_spec(run, graphs))
        return len(runs)

    async def _resumed_spec(self, run: dict[str, Any],
                            graphs: dict[str, CompiledStateGraph]) -> RunSpec:
        kwargs = run["kwargs"]
        graph_id = run["metadata"]["graph_id"]
        # an attempt is a start of the run: one that had not started keeps its number
        attempt = int(run.get("_attempt", 1)) + (run["status"] == "running")
        config = dict(kwargs["config"])
        config["metadata"] = {**(config.get("metadata") or {}), "run_attempt": attempt}
        spec = RunSpec(
            run_id=run["run_id"], thread_id=run["thread_id"], graph_id=graph_id,
            graph=graphs.get(graph_id),
            input=kwargs.get("input"), command=kwargs.get("command"), config=config,
            context=kwargs.get("context"), stream_modes=list(kwargs["stream_mode"]),
            subgraphs=bool(kwargs.get("subgraphs")),
            interrupt_before=kwargs.get("interrupt_before"),
            interrupt_after=kwargs.get("interrupt_after"),
            temporary=bool(kwargs.get("temporary")), durability=kwargs.get("durability"),
            attempt=attempt, start_at=run.get("_start_at"),
        )
        if spec.graph is not None and run["status"] == "running":
            latest = await spec.graph.aget_state(
                {"configurable": {"thread_id": spec.thread_id}})
            if (latest.metadata or {}).get("run_id") == spec.run_id:
                # It saved a checkpoint of its own: continue the thread from the last one.
                spec.input, spec.command = None, None
                configurable = dict(config.get("configurable") or {})
                configurable.pop("checkpoint_id", None)
                spec.config = {**config, "configurable": configurable}
        return spec

    # ------------------------------------------------------------ retention
    async def sweep_logs(self) -> int:
        """Delete the logs of runs that ended more than ``log_ttl`` seconds ago."""
        if math.isinf(self.log_ttl):
            return 0
        return await self.storage.delete_event_logs(self.clock() - self.log_ttl)

    def sweep_interval(self) -> float:
        """Seconds between sweeps: a tenth of the TTL, from 1 s to 5 min."""
        return min(max(self.log_ttl / 10, 1.0), 300.0)

    async def sweep_forever(
        self, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    ) -> None:
        """Sweep every :meth:`sweep_interval` seconds until cancelled."""
        if math.isinf(self.log_ttl):
            return
        while True:
            await sleep(self.sweep_interval())
            try:
                await self.sweep_logs()
            except Exception as exc:  # a locked database: the next sweep tries again
                log.warning("event log sweep failed: %r", exc)

    # ------------------------------------------------------------ one run
    async def _emit(self, spec: RunSpec, live: _Live, event: str, data: Any) -> None:
        """Hand an event to the run's writer (started if idle); wait for it only when
        :data:`MAX_BATCH` events are pending."""
        if live.write_error is not None:
            raise live.write_error
        # orjson's bytes keep the whole buffer it wrote into (4 KiB for a small item):
        # a copy holds just the JSON while the event waits for the writer.
        live.pending.append((event, memoryview(_json.dumps(data)).tobytes()))
        if live.writer is None:
            live.writer = asyncio.get_running_loop().create_task(self._write(spec, live))
        elif len(live.pending) >= MAX_BATCH:
            await asyncio.shield(live.writer)

    async def _write(self, spec: RunSpec, live: _Live) -> None:
        """The run's writer: append what is pending, one transaction per batch, and
        wake the followers after each, until nothing is pending."""
        try:
            while live.pending:
                batch, live.pending = live.pending, []
                await self.storage.append_events(spec.run_id, batch, attempt=spec.attempt)
                live.wake()
        except Exception as exc:  # the run's task raises it at its next event
            log.warning("run %s: cannot write its event log: %r", spec.run_id, exc)
            live.write_error = exc
        finally:
            live.writer = None

    async def _flush(self, spec: RunSpec, live: _Live) -> None:
        """Return once every event emitted so far is in the log."""
        while live.pending or live.writer is not None:
            if live.writer is None:
                live.writer = asyncio.get_running_loop().create_task(self._write(spec, live))
            await asyncio.shield(live.writer)
        if live.write_error is not None:
            raise live.write_error

    async def _announce(self, spec: RunSpec, live: _Live) -> None:
        """The run's first event: ``metadata {run_id, attempt}``."""
        live.announced = True
        await self._emit(spec, live, "metadata", {"run_id": spec.run_id,
                                                  "attempt": spec.attempt})

    async def _execute(self, spec: RunSpec, live: _Live) -> None:
        started = time.monotonic()
        lock = self._thread_locks.setdefault(spec.thread_id, asyncio.Lock())
        status = "error"
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_running)
        try:
            live.started = True
            if live.cancelled:  # cancelled before its task began
                raise asyncio.CancelledError
            live.delayed = True
            while spec.start_at is not None and spec.start_at > self.clock():
                await self.sleep(spec.start_at - self.clock())
            live.delayed = False
            async with lock, self._slots:
                if self._draining:  # it waited for the thread or a slot: left pending
                    status = "left for the next start"
                    return
                if not spec.claimed:
                    await self.storage.update_run(spec.run_id, status="running",
                                                  updated_at=now(), _attempt=spec.attempt)
                await self.storage.update_thread(spec.thread_id, status="busy", updated_at=now())
                await self._announce(spec, live)
                # in the log before any node runs: an attempt that did anything (and
                # was cut) is always one a client was told of
                await self._flush(spec, live)
                error: dict[str, str] | None
                if spec.graph is None or spec.refusal is not None:
                    status, error = "error", spec.refusal or {
                        "error": "GraphNotFound",
                        "message": f"graph {spec.graph_id!r} is not served any more"}
                    await self._emit(spec, live, "error", error)
                else:
                    status, error = await self._stream(spec, live)
                if live.drained:  # stopped at a checkpoint: the next start goes on
                    status = "left for the next start"
                    return
                status = await self._finish(spec, live, status, error)
        except _LeftForRetry as exc:
            status = f"left for another attempt ({exc.__cause__!r})"
            log.warning("run %s: %s", spec.run_id, status)
        except asyncio.CancelledError:
            if live.abandoned:
                status = "abandoned: another worker owns it"
            elif self._draining:  # left pending/running: the next start resumes it
                status = "left for the next start"
            else:
                status = "interrupted"
                error = {"error": "UserInterrupt", "message": "the run was cancelled"}
                if not live.announced:  # cancelled before it began: metadata first still
                    await _to_the_end(self._announce(spec, live))
                status = await _to_the_end(self._finish(spec, live, status, error))
        except Exception as exc:
            if self.retryable(exc):
                status = f"left for another attempt ({exc!r})"
                log.warning("run %s: %s", spec.run_id, status)
            else:  # not the graph's failure (that is an error event): no retry cures it
                status = await _to_the_end(self._fail(spec, exc))
        finally:
            try:  # what the run emitted before it stopped (a cancel, a drain)
                await _to_the_end(self._flush(spec, live))
            except Exception as exc:  # its followers stop here
                log.warning("run %s: events left unwritten: %r", spec.run_id, exc)
            live.done = True
            live.wake()
            self._live.pop(spec.run_id, None)
            runs = self._by_thread.get(spec.thread_id)
            if runs is not None:
                runs.discard(spec.run_id)
                if not runs:
                    del self._by_thread[spec.thread_id]
            if spec.thread_id not in self._by_thread:  # no run of the thread is waiting
                self._thread_locks.pop(spec.thread_id, None)
            log.info("run %s graph=%s status=%s %.3fs", spec.run_id, spec.graph_id, status,
                     time.monotonic() - started)
            if live.on_done is not None:
                live.on_done(spec.run_id)

    async def _fail(self, spec: RunSpec, exc: Exception) -> str:
        """End a run that cannot go on, nor be retried (its log refuses every event it
        writes, say): its record and its thread say ``error``, so that its followers
        and waiters end (they poll the record) and no worker claims it again."""
        log.error("run %s: ended, it cannot go on: %r", spec.run_id, exc)
        error = {"error": type(exc).__name__, "message": str(exc)}
        try:
            await self.storage.update_run(spec.run_id, status="error", updated_at=now(),
                                          _output={"__error__": error},
                                          _ended_at=self.clock())
            if not spec.temporary:
                await self.storage.update_thread(spec.thread_id, status="error",
                                                 error=error, updated_at=now())
        except Exception as again:  # the database is away too: it stays resumable
            log.warning("run %s: cannot record its end: %r", spec.run_id, again)
            return f"error, not recorded ({again!r})"
        return "error"

    async def _stream(self, spec: RunSpec, live: _Live) -> tuple[str, dict[str, str] | None]:
        """Stream the graph into the log; ``(run status, error or None)``."""
        assert spec.graph is not None
        modes = list(dict.fromkeys(STREAM_MODES[m][0] for m in spec.stream_modes
                                   if m != "events"))
        tuples = "messages-tuple" in spec.stream_modes
        # Both modes asked for: LangGraph's server sends the tuples only.
        messages = _MessageStream() if "messages" in spec.stream_modes and not tuples else None
        if spec.command is not None:
            payload: Any = to_command(spec.command)
        else:
            payload = spec.input
        def drain() -> bool:  # asked after each saved step: stop there?
            live.drained = self._draining
            return live.drained

        config = {**spec.config, "configurable": {
            **(spec.config.get("configurable") or {}), DRAIN_KEY: drain}}
        options = {"context": spec.context, "interrupt_before": spec.interrupt_before,
                   "interrupt_after": spec.interrupt_after, "durability": spec.durability}
        try:
            # The graph decides what a run without subgraphs shows, as LangGraph does
            # (tokens of a model called in a subgraph, for one).
            if "events" not in spec.stream_modes:
                async for item in spec.graph.astream(
                    payload, config, stream_mode=modes, subgraphs=spec.subgraphs, **options,
                ):
                    await self._emit_item(spec, live, item, messages)
                return "success", None
            # As LangGraph's server: one astream_events run, whose root chain's
            # on_chain_stream events carry the other modes' items.
            async for event in spec.graph.astream_events(
                payload, config, stream_mode=modes or None, subgraphs=spec.subgraphs,
                **options,
            ):
                if event["run_id"] == spec.run_id:
                    if event["event"] == "on_chain_stream":
                        if modes:
                            await self._emit_item(spec, live, event["data"]["chunk"], messages)
                        continue
                    event["name"] = spec.graph_id  # the root chain is named by its graph id
                await self._emit(spec, live, "events", event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the graph failed: the client sees an error event
            if self.retryable(exc):  # not the graph: its checkpoint or log could not be saved
                raise _LeftForRetry from exc
            log.info("run %s failed: %r", spec.run_id, exc)
            error = {"error": type(exc).__name__, "message": str(exc)}
            await self._emit(spec, live, "error", error)
            return "error", error
        return "success", None

    async def _emit_item(self, spec: RunSpec, live: _Live, item: Any,
                         messages: _MessageStream | None) -> None:
        """Log one item of ``astream(stream_mode=[...])`` as its SSE event."""
        if spec.subgraphs:
            ns, mode, data = item
        else:
            (mode, data), ns = item, ()
        if mode == "messages" and messages is not None:
            # Named without the namespace, as LangGraph's server names them (the
            # message's metadata says where it comes from).
            for kind, part in messages.events(data):
                await self._emit(spec, live, f"messages/{kind}", part)
            return
        if mode == "debug":
            data = with_checkpoints(data)
        await self._emit(spec, live, "|".join((EVENT_NAMES[mode], *ns)), data)

    async def _finish(
        self, spec: RunSpec, live: _Live, status: str, error: dict[str, str] | None
    ) -> str:
        """Record the outcome: the thread's state and status, the run's status and its
        output (what ``/wait`` and ``/join`` answer), then the log's ``end`` event;
        the run's final status."""
        try:
            if spec.graph is None:
                raise LookupError(f"graph {spec.graph_id!r} is not served any more")
            fields = await thread_fields_after_run(spec.graph, spec.thread_id, status)
        except Exception as exc:  # a checkpoint this graph cannot read (another graph's)
            log.warning("run %s: cannot read the thread's state: %r", spec.run_id, exc)
            thread = await self.storage.get_thread(spec.thread_id) or {}
            fields = {"values": thread.get("values"), "interrupts": {}, "status": "error"}
            if error is None:
                status = "error"
                error = {"error": type(exc).__name__, "message": str(exc)}
        await self._flush(spec, live)  # the log is complete before the run is marked ended
        output: Any = fields["values"]
        if error is not None and status == "error":
            output = {"__error__": error}
        elif fields["interrupts"]:
            pending = [{**i, "response_schema": None}
                       for items in fields["interrupts"].values() for i in items]
            output = {**(output or {}), "__interrupt__": pending}
        if spec.temporary:
            await self.storage.delete_thread(spec.thread_id, runs=False)
            if self.saver is not None:
                await self.saver.adelete_thread(spec.thread_id)
        else:
            await self.storage.update_thread(spec.thread_id, **fields, error=error,
                                             config={"configurable": {}}, updated_at=now())
        await self.storage.update_run(spec.run_id, status=status, updated_at=now(),
                                      _output=output, _ended_at=self.clock())
        await self._emit(spec, live, "end", None)
        return status


async def _to_the_end(work: Awaitable[T]) -> T:
    """Await ``work`` to its end even if this task is cancelled meanwhile (a run's
    clean-up: its ``end`` event must be in the log before its followers are told it
    ended); the cancel is not lost, the task is ending anyway."""
    task = asyncio.ensure_future(work)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                return task.result()
