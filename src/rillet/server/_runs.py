"""Running runs: each in its own asyncio task, every event logged before it is seen.

A :class:`RunManager` starts a run as a task on the server's loop. The task streams
the graph, and for each item appends an event to the run's log in storage (which
gives it its sequence number, the SSE ``id``) and only then wakes the followers.
Clients never get events from the task: they *follow* the log (:meth:`follow`), from
the start or after a ``Last-Event-ID``, so a stream, a join and a reconnect read the
same events in the same order, whatever they missed. A run's life does not depend on
its clients.

Runs of one thread run one at a time (``multitask_strategy="enqueue"`` waits for the
thread's lock; ``"reject"`` is refused with 409 before the run is created).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from rillet.graph import CompiledStateGraph
from rillet.server import _json
from rillet.server._state import thread_fields_after_run, with_checkpoints
from rillet.server._time import now
from rillet.server.storage import Event, Storage
from rillet.types import Command, StreamMode

__all__ = ["RunManager", "RunSpec"]

log = logging.getLogger("rillet.server")

#: API stream mode -> (rillet stream mode, SSE event name).
STREAM_MODES: dict[str, tuple[StreamMode, str]] = {
    "values": ("values", "values"),
    "updates": ("updates", "updates"),
    "custom": ("custom", "custom"),
    "messages-tuple": ("messages", "messages"),
    "tasks": ("tasks", "tasks"),
    "checkpoints": ("checkpoints", "checkpoints"),
    "debug": ("debug", "debug"),
}
EVENT_NAMES = {rillet: event for rillet, event in STREAM_MODES.values()}


@dataclass
class RunSpec:
    """What a run executes, taken from the validated request body."""

    run_id: str
    thread_id: str
    graph_id: str
    graph: CompiledStateGraph
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


@dataclass
class _Live:
    """A run in progress: its task and the event its followers wait on."""

    task: asyncio.Task[None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    done: bool = False

    def wake(self) -> None:
        old, self.changed = self.changed, asyncio.Event()
        old.set()


class RunManager:
    """Starts runs, keeps their logs, lets clients follow them (see the module doc)."""

    def __init__(self, storage: Storage, saver: Any = None) -> None:
        self.storage = storage
        self.saver = saver  # to delete a stateless run's checkpoints
        self._live: dict[str, _Live] = {}
        self._by_thread: dict[str, set[str]] = {}
        self._thread_locks: dict[str, asyncio.Lock] = {}

    def thread_busy(self, thread_id: str) -> bool:
        """Whether a run of the thread is pending or running here."""
        return bool(self._by_thread.get(thread_id))

    def start(self, spec: RunSpec) -> None:
        """Start ``spec`` in the background (its run record is already stored)."""
        live = _Live()
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
        live.task.cancel()
        return True

    async def wait(self, run_id: str) -> None:
        """Return once the run has ended (at once if it is not running here)."""
        live = self._live.get(run_id)
        if live is not None and live.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(live.task)

    async def follow(self, run_id: str, after: int = -1) -> AsyncIterator[Event]:
        """The run's events after sequence number ``after``, stored ones first, then
        live ones as they are logged, until the run has ended."""
        while True:
            live = self._live.get(run_id)
            changed = live.changed if live is not None else None
            events = await self.storage.read_events(run_id, after)
            for event in events:
                yield event
                after = event.seq
            if events:
                continue
            if live is None or live.done or changed is None:
                return
            await changed.wait()

    async def aclose(self) -> None:
        """Cancel the runs still going (server shutdown)."""
        tasks = [live.task for live in self._live.values() if live.task and not live.done]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------ one run
    async def _emit(self, spec: RunSpec, live: _Live, event: str, data: Any) -> None:
        await self.storage.append_event(spec.run_id, event, _json.dumps(data))
        live.wake()

    async def _execute(self, spec: RunSpec, live: _Live) -> None:
        started = time.monotonic()
        lock = self._thread_locks.setdefault(spec.thread_id, asyncio.Lock())
        status = "error"
        try:
            async with lock:
                await self.storage.update_run(spec.run_id, status="running", updated_at=now())
                await self.storage.update_thread(spec.thread_id, status="busy", updated_at=now())
                await self._emit(spec, live, "metadata", {"run_id": spec.run_id, "attempt": 1})
                status, error = await self._stream(spec, live)
                status = await self._finish(spec, live, status, error)
        except asyncio.CancelledError:
            status = "interrupted"
            error = {"error": "UserInterrupt", "message": "the run was cancelled"}
            status = await asyncio.shield(self._finish(spec, live, status, error))
        finally:
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

    async def _stream(self, spec: RunSpec, live: _Live) -> tuple[str, dict[str, str] | None]:
        """Stream the graph into the log; ``(run status, error or None)``."""
        modes = [STREAM_MODES[m][0] for m in spec.stream_modes]
        if spec.command is not None:
            payload: Any = Command(
                resume=spec.command.get("resume"), update=spec.command.get("update"),
                goto=spec.command.get("goto") or (),
            )
        else:
            payload = spec.input
        try:
            # The graph decides what a run without subgraphs shows, as LangGraph does
            # (tokens of a model called in a subgraph, for one).
            async for item in spec.graph.astream(
                payload, spec.config, stream_mode=modes, subgraphs=spec.subgraphs,
                context=spec.context, interrupt_before=spec.interrupt_before,
                interrupt_after=spec.interrupt_after, durability=spec.durability,
            ):
                if spec.subgraphs:
                    ns, mode, data = item
                    name = "|".join((EVENT_NAMES[mode], *ns))
                else:
                    mode, data = item
                    name = EVENT_NAMES[mode]
                if mode == "debug":
                    data = with_checkpoints(data)
                await self._emit(spec, live, name, data)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the graph failed: the client sees an error event
            log.info("run %s failed: %r", spec.run_id, exc)
            error = {"error": type(exc).__name__, "message": str(exc)}
            await self._emit(spec, live, "error", error)
            return "error", error
        return "success", None

    async def _finish(
        self, spec: RunSpec, live: _Live, status: str, error: dict[str, str] | None
    ) -> str:
        """Record the outcome: the thread's state and status, the run's status and its
        output (what ``/wait`` and ``/join`` answer), then the log's ``end`` event;
        the run's final status."""
        try:
            fields = await thread_fields_after_run(spec.graph, spec.thread_id, status)
        except Exception as exc:  # a checkpoint this graph cannot read (another graph's)
            log.warning("run %s: cannot read the thread's state: %r", spec.run_id, exc)
            thread = await self.storage.get_thread(spec.thread_id) or {}
            fields = {"values": thread.get("values"), "interrupts": {}, "status": "error"}
            if error is None:
                status = "error"
                error = {"error": type(exc).__name__, "message": str(exc)}
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
                                      _output=output)
        await self._emit(spec, live, "end", None)
        return status
