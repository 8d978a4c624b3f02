"""The async driver: executes what the loop asks, on the caller's event loop.

Async nodes, branches and tools run as coroutines of this one loop; sync ones on
worker threads (:func:`~rillet.runtime._workers.in_thread`), so nothing blocks the
loop. Under ``astream`` an async node is held back between its own awaits while the
bus is full (:class:`Throttled`), so memory stays bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

from rillet.runtime._context import RootRun, Task, current_task
from rillet.runtime._effects import Call, Effect, Failure, RunTasks
from rillet.runtime._sync import abandon_others
from rillet.runtime._workers import in_thread

if TYPE_CHECKING:
    from rillet.runtime._loop import Loop


async def run_async(loop: Loop, steps: Generator[Effect, Any, dict[str, Any]]) -> dict[str, Any]:
    """Drive a run to its end on this event loop; return its output."""
    root = loop.run.settings
    if root.async_loop is None:
        root.async_loop = asyncio.get_running_loop()
    send: Any = None
    while True:
        try:
            effect = steps.send(send)
        except StopIteration as stop:
            output: dict[str, Any] = stop.value
            break
        send = None
        if effect.__class__ is RunTasks:
            try:
                await run_tasks_async(loop, effect)
            except Exception as error:  # the loop decides (it may save what got done)
                send = Failure(error)
        else:
            send = await execute_async(effect, root)
    if loop.error is not None:
        raise surfaced(loop.error)
    return output


async def run_tasks_async(loop: Loop, step: RunTasks) -> None:
    """Run a step's tasks concurrently; on the first failure cancel the others and
    raise it. Cancelling this coroutine cancels every task it started."""
    tasks = step.tasks
    if len(tasks) == 1:
        task = tasks[0]
        await drive_task_async(loop, task)
        if task.error is not None:
            raise surfaced(task.error)
        return
    semaphore = asyncio.Semaphore(step.limit) if step.limit else None
    running = [asyncio.ensure_future(_guarded(loop, task, semaphore)) for task in tasks]
    try:
        pending = set(running)
        while pending:
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            failed = first_failure(tasks)
            if failed is not None:
                raise surfaced(failed)
    except BaseException as error:
        for fut in running:
            fut.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        abandon_others(tasks, getattr(error, "__cause__", None) or error)
        raise


def first_failure(tasks: Sequence[Task]) -> BaseException | None:
    for task in tasks:
        if task.error is not None:
            return task.error
    return None


async def _guarded(loop: Loop, task: Task, semaphore: asyncio.Semaphore | None) -> None:
    if semaphore is None:
        await drive_task_async(loop, task)
    else:
        async with semaphore:
            await drive_task_async(loop, task)


async def drive_task_async(
    loop: Loop, task: Task, steps: Generator[Any, Any, None] | None = None
) -> None:
    """Run one task's lifecycle (its failure lands on ``task.error``):
    :meth:`Loop.task_steps`, or ``steps`` when given."""
    root = loop.run.settings
    token = current_task.set(task)
    try:
        if steps is None:
            steps = loop.task_steps(task)
        send: Any = None
        while True:
            try:
                effect = steps.send(send)
            except StopIteration:
                return
            if root.closed or task.abandoned:
                steps.close()
                return
            send = await execute_async(effect, root)
    finally:
        current_task.reset(token)


async def execute_async(effect: Effect, root: RootRun) -> Any:
    """Execute a :class:`Call` or :class:`Sleep`; a raised exception comes back as a
    :class:`Failure` (but this coroutine's own cancellation propagates)."""
    if effect.__class__ is not Call:
        await asyncio.sleep(effect.seconds)  # type: ignore[union-attr]
        return None
    call: Call = effect
    try:
        kwargs = call.kwargs or {}
        if call.afn is not None:
            return await call.afn(*call.args, **kwargs)
        if call.is_async:
            coro = call.fn(*call.args, **kwargs)
            bus = root.bus
            if bus is not None and hasattr(bus, "wait_writable"):
                return await Throttled(coro, bus)
            return await coro
        work = await in_thread(lambda: call.fn(*call.args, **kwargs))
        if work.error is not None:
            return Failure(work.error)
        result = work.result
        if hasattr(result, "__await__"):
            result = await result
        return result
    except asyncio.CancelledError as exc:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        return Failure(exc)
    except BaseException as exc:
        return Failure(exc)


def surfaced(error: BaseException) -> BaseException:
    """``error`` as an async caller can receive it: no coroutine can raise
    ``StopIteration``, so it arrives as a ``RuntimeError`` carrying it (with its
    notes), as LangGraph gives it."""
    if isinstance(error, StopIteration | StopAsyncIteration):
        wrapped = RuntimeError(f"{type(error).__name__} raised by the node: {error!r}")
        for note in getattr(error, "__notes__", ()):
            wrapped.add_note(note)
        wrapped.__cause__ = error
        return wrapped
    return error


class Throttled:
    """Await a node's coroutine, holding it back between its own awaits while the
    stream's bus is full: a node that writes and awaits cannot run ahead of a slow
    consumer by more than the bus's bound."""

    __slots__ = ("bus", "coro")

    def __init__(self, coro: Any, bus: Any) -> None:
        self.coro = coro
        self.bus = bus

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, bus = self.coro, self.bus
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                yielded = coro.send(value) if error is None else coro.throw(error)
            except StopIteration as stop:
                return stop.value
            value = error = None
            try:
                value = yield yielded
            except BaseException as exc:
                error = exc
            if error is None and bus.full:
                try:
                    yield from bus.wait_writable().__await__()
                except BaseException as exc:
                    error = exc
