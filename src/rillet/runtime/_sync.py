"""The sync driver: executes what the loop asks, on the calling thread.

Parallel tasks run on the worker pool (the caller runs a share, see
:func:`~rillet.runtime._workers.parallel`); async nodes, branches and tools run on
the run's one event loop (:meth:`RootRun.run_coroutine`).
"""

from __future__ import annotations

import time
from collections.abc import Generator
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from rillet.runtime._context import RootRun, Task, current_task
from rillet.runtime._effects import Call, Effect, Failure, RunTasks

if TYPE_CHECKING:
    from rillet.runtime._loop import Loop


def run_sync(loop: Loop, steps: Generator[Effect, Any, dict[str, Any]]) -> dict[str, Any]:
    """Drive a run to its end on this thread; return its output."""
    root = loop.run.settings
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
                run_tasks_sync(loop, effect)
            except Exception as error:  # the loop decides (it may save what got done)
                send = Failure(error)
        else:
            send = execute_sync(effect, root)
    if loop.error is not None:
        raise loop.error
    return output


def run_tasks_sync(loop: Loop, step: RunTasks) -> None:
    """Run a step's tasks; raise the first failure (the others are abandoned:
    those not started never start)."""
    tasks = step.tasks
    if len(tasks) == 1:
        task = tasks[0]
        drive_task(loop, task)
        if task.error is not None:
            raise task.error
        return
    from rillet.runtime._workers import parallel

    try:
        parallel([_raising(loop, task) for task in tasks], limit=step.limit, fail_fast=True)
    except BaseException as error:
        abandon_others(tasks, error)
        raise


def abandon_others(tasks: Any, error: BaseException) -> None:
    """Mark a failed step's other tasks as abandoned (their later writes are dropped)
    and name the others that failed too in a note on ``error``."""
    others = []
    for task in tasks:
        if task.error is None:
            task.abandoned = True
        elif task.error is not error:
            others.append(f"{task.name!r} ({type(task.error).__name__}: {task.error})")
    if others:
        error.add_note(f"Also failed in the same step: {', '.join(others)}")


def _raising(loop: Loop, task: Task) -> Any:
    def run() -> None:
        drive_task(loop, task)
        if task.error is not None:
            raise task.error

    return run


def drive_task(loop: Loop, task: Task, steps: Generator[Any, Any, None] | None = None) -> None:
    """Run one task's lifecycle on this thread (its failure lands on ``task.error``):
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
                steps.close()  # stopped: what has not started does not start
                return
            send = execute_sync(effect, root)
    finally:
        current_task.reset(token)


def execute_sync(effect: Effect, root: RootRun) -> Any:
    """Execute a :class:`Call` or :class:`Sleep`; a raised exception comes back as a
    :class:`Failure`."""
    if effect.__class__ is Call:
        call: Call = effect
        try:
            kwargs = call.kwargs
            result = call.fn(*call.args, **kwargs) if kwargs else call.fn(*call.args)
            if call.is_async or (result.__class__ is not dict and hasattr(result, "__await__")):
                coro = result if isinstance(result, CoroutineType) else _awaiting(result)
                result = root.run_coroutine(coro)
            return result
        except BaseException as exc:
            return Failure(exc)
    time.sleep(effect.seconds)  # type: ignore[union-attr]
    return None


async def _awaiting(awaitable: Any) -> Any:
    return await awaitable
