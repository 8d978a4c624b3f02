"""The async driver: the same superstep loop, with tasks as asyncio tasks and sync
nodes on the shared thread pool."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Sequence
from typing import Any

from rillet.errors import StreamClosedError
from rillet.runtime._context import Task, current_task
from rillet.runtime._loop import Loop, ParentCommand
from rillet.runtime._sync import _record_error, call_node_sync, shared_pool


async def run_loop_async(loop: Loop, input: Any, *, nested: bool = False) -> dict[str, Any]:
    """Run the whole graph; return its final values."""
    tasks = loop.start(input, nested=nested)
    limit = loop.run.config.get("max_concurrency")
    while tasks:
        if len(tasks) == 1:
            await run_task_async(loop, tasks[0])
        else:
            await run_parallel_async(loop, tasks, limit)
        tasks = loop.commit(tasks)
    return loop.end()


async def run_parallel_async(loop: Loop, tasks: Sequence[Task], limit: int | None) -> None:
    """Run a step's tasks concurrently; on the first error cancel the others, wait for
    them, and raise it. Cancelling this coroutine cancels every task it started."""
    semaphore = asyncio.Semaphore(limit) if limit and limit > 0 else None

    async def guarded(task: Task) -> None:
        if semaphore is None:
            await run_task_async(loop, task)
        else:
            async with semaphore:
                await run_task_async(loop, task)

    running = [asyncio.ensure_future(guarded(task)) for task in tasks]
    try:
        _, pending = await asyncio.wait(running, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:
        for fut in running:
            fut.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        raise
    if pending:
        for fut in pending:
            fut.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    for task, fut in zip(tasks, running, strict=True):
        if fut.done() and not fut.cancelled() and fut.exception() is not None:
            raise task.error or fut.exception()  # type: ignore[misc]


async def run_task_async(loop: Loop, task: Task) -> None:
    """Run one task to completion, with its retry policy."""
    token = current_task.set(task)
    try:
        loop.task_started(task)
        try:
            result = await _call_with_retry(task)
        except ParentCommand as command:
            # A subgraph's node sent Command(graph=PARENT): it applies to this graph.
            if task.node.subgraph is None:
                raise
            result = command.command
        loop.finish(task, result)
        for branch in task.node.branches:
            view = loop.branch_view(task)
            choice = await loop.graph.call_branch_async(branch, view, task)
            loop.add_branch_result(task, branch, choice)
    except asyncio.CancelledError:
        raise
    except BaseException as exc:
        _record_error(loop, task, exc)
        raise
    finally:
        current_task.reset(token)


async def _call_with_retry(task: Task) -> Any:
    node = task.node
    policy = node.retry
    attempt = 0
    while True:
        try:
            return await call_node_async(task)
        except Exception as exc:
            attempt += 1
            if (
                policy is None
                or isinstance(exc, StreamClosedError | ParentCommand)
                or attempt >= policy.max_attempts
                or not policy.should_retry(exc)
            ):
                raise
            await asyncio.sleep(policy.interval(attempt))


async def call_node_async(task: Task) -> Any:
    node = task.node
    if node.subgraph is not None:
        return await node.subgraph.ainvoke(task.input)
    if node.afn is not None:
        return await node.afn(task.input, config=task.config)
    if not node.is_async:
        return await run_in_thread(call_node_sync, task)
    if node.wants_config or node.wants_writer:
        kwargs: dict[str, Any] = {}
        if node.wants_config:
            kwargs["config"] = task.config
        if node.wants_writer:
            kwargs["writer"] = task.writer
        return await node.fn(task.input, **kwargs)
    return await node.fn(task.input)


async def run_in_thread(fn: Any, *args: Any) -> Any:
    """Run sync code on the pool. If this coroutine is cancelled, the thread cannot
    be interrupted: wait for it (it stops at its next stream write, since the bus is
    closed by then) so that no thread outlives the run."""
    ctx = contextvars.copy_context()
    future = asyncio.wrap_future(shared_pool().submit(ctx.run, fn, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        if not future.cancelled():
            future.exception()  # retrieved: it was StreamClosedError or the node's own
        raise
