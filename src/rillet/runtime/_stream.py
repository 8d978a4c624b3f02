"""Root runs that stream: the loop runs inside the consumer's generator.

As in LangGraph, the generator itself drives the run, so the run is in lockstep with
its consumer: a step's tasks start only after the consumer has taken every item of
the step before (break on an update, and nothing after it has started). Within a
step, tasks that may produce items while they run (``custom``, ``messages``,
``events``, subgraphs) run beside the consumer (threads under ``stream()``, asyncio
tasks under ``astream()``) and their items are yielded live; a step of one task that
can produce nothing live runs inline, with no thread hand-off at all.

Leaving the generator (break, ``close()``, ``aclose()``, cancellation, garbage
collection) stops the run: nothing starts afterwards, async nodes are cancelled, and
a sync node still blocked in a call finishes it in the background with its later
writes dropped. The consumer never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Generator, Iterator
from typing import TYPE_CHECKING, Any

from rillet.runtime._async import (
    drive_task_async,
    execute_async,
    first_failure,
    surfaced,
)
from rillet.runtime._effects import Effect, Failure, RunTasks
from rillet.runtime._sync import abandon_others, drive_task, execute_sync
from rillet.runtime._workers import start_thread
from rillet.stream._events import TaskDoneEvent
from rillet.stream._format import SKIP, Formatter, Many

if TYPE_CHECKING:
    from rillet.runtime._context import RootRun, Task
    from rillet.runtime._loop import Loop
    from rillet.stream._bus import AsyncBus, SyncBus

#: Modes whose items appear while a node runs (not only when it returns).
LIVE_MODES = frozenset({"custom", "messages", "events"})


def is_live(root: RootRun) -> bool:
    return bool(root.modes & LIVE_MODES) or root.subgraphs


class _Out:
    """The consumer side: stamps and formats events taken off the bus."""

    __slots__ = ("run_id", "seq", "table")

    def __init__(self, table: Formatter, run_id: str) -> None:
        self.table = table
        self.run_id = run_id
        self.seq = 0

    def format(self, event: Any, out: list[Any]) -> None:
        fmt = self.table.get(event.__class__)
        if fmt is None:
            return
        event.seq = self.seq
        event.run = self.run_id
        self.seq += 1
        item = fmt(event)
        if item.__class__ is Many:
            out.extend(item.items)
        elif item is not SKIP:
            out.append(item)


def stream_sync(
    loop: Loop,
    steps: Generator[Effect, Any, dict[str, Any]],
    bus: SyncBus,
    table: Formatter,
) -> Iterator[Any]:
    root = loop.run.settings
    live = is_live(root)
    out = _Out(table, root.run_id)
    items = bus._items
    ready: list[Any] = []
    try:
        send: Any = None
        while True:
            try:
                effect = steps.send(send)
            except StopIteration:
                break
            except BaseException:
                while items:  # what came before the error still reaches the consumer
                    out.format(items.popleft(), ready)
                yield from ready
                raise
            send = None
            while items:
                out.format(items.popleft(), ready)
            if ready:
                yield from ready
                ready.clear()
            if effect.__class__ is not RunTasks:
                send = execute_sync(effect, root)
                continue
            tasks = effect.tasks
            if len(tasks) == 1 and not live and not tasks[0].node.functional:
                task = tasks[0]
                drive_task(loop, task)
                if task.error is not None:
                    send = Failure(task.error)  # the loop decides (it may save what got done)
                continue
            try:
                yield from _threaded_step(loop, effect, bus, out)
            except Exception as error:
                send = Failure(error)
        while items:
            out.format(items.popleft(), ready)
        yield from ready
        if loop.error is not None:
            raise loop.error
    except StopIteration as exc:  # a node's: a generator cannot raise it as itself
        raise surfaced(exc) from exc
    finally:
        root.close()
        root.release()


def _threaded_step(loop: Loop, step: RunTasks, bus: SyncBus, out: _Out) -> Iterator[Any]:
    tasks = step.tasks
    limit = step.limit or len(tasks)
    queue = list(reversed(tasks))
    left = len(tasks)
    started = 0

    def start(task: Task) -> None:
        def run() -> None:
            try:
                drive_task(loop, task)
            finally:
                bus.put_final(TaskDoneEvent((), task))

        start_thread(run)

    while queue and started < limit:
        start(queue.pop())
        started += 1
    items = bus._items
    pop = items.popleft
    low_water = bus.low_water
    get_format = out.table.get
    run_id, seq = out.run_id, out.seq
    try:
        while left:
            if not items:
                bus.wait()
            event = pop()
            if bus._producers_waiting and len(items) <= low_water:
                bus.notify_producers()
            cls = event.__class__
            fmt = get_format(cls)
            if fmt is None:
                if cls is TaskDoneEvent:
                    left -= 1
                    failed = event.task.error
                    if failed is not None:
                        abandon_others(tasks, failed)
                        for rest in queue:
                            rest.abandoned = True
                        raise failed
                    if queue:
                        start(queue.pop())
                continue
            event.seq = seq
            event.run = run_id
            seq += 1
            item = fmt(event)
            if item.__class__ is Many:
                yield from item.items
            elif item is not SKIP:
                yield item
    finally:
        out.seq = seq


async def stream_async(
    loop: Loop,
    steps: Generator[Effect, Any, dict[str, Any]],
    bus: AsyncBus,
    table: Formatter,
) -> AsyncGenerator[Any, None]:
    root = loop.run.settings
    root.async_loop = asyncio.get_running_loop()
    live = is_live(root)
    out = _Out(table, root.run_id)
    items = bus._items
    ready: list[Any] = []
    running: list[asyncio.Future[None]] = []
    try:
        send: Any = None
        while True:
            try:
                effect = steps.send(send)
            except StopIteration:
                break
            except BaseException:
                while items:
                    out.format(bus.pop_nowait(), ready)
                for item in ready:
                    yield item
                raise
            send = None
            while items:
                out.format(bus.pop_nowait(), ready)
            for item in ready:
                yield item
            ready.clear()
            if effect.__class__ is not RunTasks:
                send = await execute_async(effect, root)
                continue
            tasks = effect.tasks
            if len(tasks) == 1 and not live and not tasks[0].node.functional:
                task = tasks[0]
                await drive_task_async(loop, task)
                if task.error is not None:
                    send = Failure(task.error)  # the loop decides (it may save what got done)
                continue
            limit = effect.limit or len(tasks)
            queue = list(reversed(tasks))
            left = len(tasks)

            def start(task: Task) -> None:
                async def run() -> None:
                    try:
                        await drive_task_async(loop, task)
                    finally:
                        bus.put_final(TaskDoneEvent((), task))

                running.append(asyncio.ensure_future(run()))

            while queue and len(running) < limit:
                start(queue.pop())
            get_format = out.table.get
            failed: BaseException | None = None
            while left:
                if not items:
                    await bus.wait()
                event = bus.pop_nowait()
                cls = event.__class__
                fmt = get_format(cls)
                if fmt is None:
                    if cls is TaskDoneEvent:
                        left -= 1
                        failed = first_failure(tasks)
                        if failed is not None:
                            abandon_others(tasks, failed)
                            for rest in queue:
                                rest.abandoned = True
                            break
                        running[:] = [f for f in running if not f.done()]
                        if queue:
                            start(queue.pop())
                    continue
                event.seq = out.seq
                event.run = out.run_id
                out.seq += 1
                item = fmt(event)
                if item.__class__ is Many:
                    for one in item.items:
                        yield one
                elif item is not SKIP:
                    yield item
            if failed is not None:
                for fut in running:
                    fut.cancel()
                await asyncio.gather(*running, return_exceptions=True)
                send = Failure(failed)
            running.clear()
        while items:
            out.format(bus.pop_nowait(), ready)
        for item in ready:
            yield item
        if loop.error is not None:
            raise surfaced(loop.error)
    finally:
        root.close()
        for fut in running:
            fut.cancel()
        if running:
            with contextlib.suppress(BaseException):  # the loop may be shutting down
                await asyncio.gather(*running, return_exceptions=True)
        root.release()
