"""The sync driver: runs the superstep loop on the calling thread, with parallel
tasks on a shared thread pool."""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
import time
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from rillet.errors import StreamClosedError
from rillet.runtime._context import Task, current_task
from rillet.runtime._loop import Loop, ParentCommand

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def shared_pool() -> ThreadPoolExecutor:
    """The process-wide pool for parallel sync tasks (created on first use)."""
    global _pool
    if _pool is None:
        from concurrent.futures import ThreadPoolExecutor

        with _pool_lock:
            if _pool is None:
                workers = max(32, (os.cpu_count() or 1) * 8)
                _pool = ThreadPoolExecutor(workers, thread_name_prefix="rillet-task")
    return _pool


def run_coroutine_sync(awaitable: Awaitable[T]) -> T:
    """Run an async node from sync code (a thread with no running event loop)."""
    import asyncio

    async def main() -> T:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    # Called from a thread that runs a loop: run the coroutine on a helper thread.
    ctx = contextvars.copy_context()
    return shared_pool().submit(ctx.run, asyncio.run, main()).result()


def run_loop_sync(loop: Loop, input: Any, *, nested: bool = False) -> dict[str, Any]:
    """Run the whole graph; return its final values."""
    tasks = loop.start(input, nested=nested)
    limit = loop.run.config.get("max_concurrency")
    while tasks:
        if len(tasks) == 1:
            run_task_sync(loop, tasks[0])
        else:
            run_parallel_sync(loop, tasks, limit)
        tasks = loop.commit(tasks)
    return loop.end()


def run_parallel_sync(loop: Loop, tasks: Sequence[Task], limit: int | None) -> None:
    """Run a step's tasks in parallel on the shared pool, at most ``limit`` at once.

    Without a limit this thread runs one task itself. A pooled task that has not
    started when this thread would wait for it is run here instead (with a limit,
    after a short grace), so nested graphs never wait forever on a pool whose
    threads are all busy waiting. Every task finishes before this returns (no thread
    outlives its step); the first error, in task order, is raised after that.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, wait

    pool = shared_pool()
    limited = bool(limit) and limit is not None and 0 < limit < len(tasks)
    width = limit if limited and limit is not None else len(tasks) - 1
    queue = deque(tasks)
    running: dict[Future[None], Task] = {}
    while queue or running:
        while queue and len(running) < width:
            task = queue.popleft()
            future = pool.submit(contextvars.copy_context().run, run_task_sync, loop, task)
            running[future] = task
        if queue and not limited:  # the one task this thread runs itself
            _run_catching(loop, queue.popleft())
        if not running:
            continue
        if not limited:
            for future in [f for f in running if f.cancel()]:
                _run_catching(loop, running.pop(future))
            if not running:
                continue
        done, _ = wait(running, timeout=_POOL_GRACE if limited else None,
                       return_when=FIRST_COMPLETED)
        if not done:  # the pool is saturated: run what has not started here
            for future in [f for f in running if f.cancel()]:
                _run_catching(loop, running.pop(future))
        for future in done:
            running.pop(future)
    for task in tasks:
        if task.error is not None:
            raise task.error


#: How long a dispatcher under ``max_concurrency`` waits before it runs queued pool
#: work itself (only matters when every pool thread is busy).
_POOL_GRACE = 0.05


def _run_catching(loop: Loop, task: Task) -> None:
    # An error is recorded on the task and raised once its siblings have finished.
    with contextlib.suppress(BaseException):
        run_task_sync(loop, task)


def run_task_sync(loop: Loop, task: Task) -> None:
    """Run one task to completion on this thread, with its retry policy."""
    token = current_task.set(task)
    try:
        loop.task_started(task)
        try:
            result = _call_with_retry(task)
        except ParentCommand as command:
            # A subgraph's node sent Command(graph=PARENT): it applies to this graph.
            if task.node.subgraph is None:
                raise
            result = command.command
        loop.finish(task, result)
        for branch in task.node.branches:
            view = loop.branch_view(task)
            choice = loop.graph.call_branch_sync(branch, view, task)
            loop.add_branch_result(task, branch, choice)
    except BaseException as exc:
        _record_error(loop, task, exc)
        raise
    finally:
        current_task.reset(token)


def _record_error(loop: Loop, task: Task, exc: BaseException) -> None:
    task.error = exc
    if isinstance(exc, ParentCommand):  # control flow on its way to the parent graph
        return
    if not isinstance(exc, StreamClosedError):
        exc.add_note(f"During task with name {task.name!r} and id {task.id!r}")
    with contextlib.suppress(StreamClosedError):
        loop.fail(task, exc)


def _call_with_retry(task: Task) -> Any:
    node = task.node
    policy = node.retry
    attempt = 0
    while True:
        try:
            return call_node_sync(task)
        except Exception as exc:
            attempt += 1
            if (
                policy is None
                or isinstance(exc, StreamClosedError | ParentCommand)
                or attempt >= policy.max_attempts
                or not policy.should_retry(exc)
            ):
                raise
            time.sleep(policy.interval(attempt))


def call_node_sync(task: Task) -> Any:
    node = task.node
    if node.wants_config or node.wants_writer:
        kwargs: dict[str, Any] = {}
        if node.wants_config:
            kwargs["config"] = task.config
        if node.wants_writer:
            kwargs["writer"] = task.writer
        result = node.fn(task.input, **kwargs)
    else:
        result = node.fn(task.input)
    if node.is_async:
        return run_coroutine_sync(result)
    return result
