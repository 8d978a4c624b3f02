"""Threads for blocking work, and the bridges between sync and async code.

The pool's threads are daemons: a thread stuck in user code (a socket read, a lock)
never keeps the process from exiting. Nothing here ever blocks on work that has not
started: a caller that waits for a batch first runs every item no thread has taken
yet (work stealing), so nested parallel work (``ToolNode`` inside parallel nodes,
subgraphs inside ``Send`` tasks) cannot deadlock the pool, however busy it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import os
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

_IDLE_SECONDS = 30.0
"""An idle worker thread exits after this long."""



class Work:
    """One call to run on a worker thread, claimed by exactly one thread."""

    __slots__ = ("_claim", "_ctx", "_fn", "_on_done", "error", "result")

    def __init__(
        self, fn: Callable[[], Any], on_done: Callable[[Work], None] | None = None
    ) -> None:
        self._fn = fn
        self._ctx = contextvars.copy_context()
        self._claim = threading.Lock()
        self._on_done = on_done
        self.result: Any = None
        self.error: BaseException | None = None

    def claim(self) -> bool:
        """Take the work for this thread; ``False`` if another thread took it."""
        return self._claim.acquire(blocking=False)

    def run(self) -> None:
        """Run a claimed work item, recording its result or error."""
        try:
            self.result = self._ctx.run(self._fn)
        except BaseException as exc:  # carried to the waiter as itself
            self.error = exc
        on_done = self._on_done
        if on_done is not None:
            on_done(self)

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class WorkerPool:
    """Daemon threads, started on demand up to ``max_workers``, that run :class:`Work`."""

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._queue: deque[Work] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._idle = 0
        self._threads = 0

    def submit(self, work: Work) -> bool:
        """Queue ``work``; ``False`` if no thread is free to take it now (every worker
        is busy and the pool is full), so the caller should run it itself."""
        with self._lock:
            self._queue.append(work)
            if len(self._queue) <= self._idle:
                self._wake.notify()
                return True
            if self._threads >= self.max_workers:
                return False  # queued until a worker frees up, unless stolen first
            self._threads += 1
        thread = threading.Thread(target=self._serve, name="rillet-worker", daemon=True)
        thread.start()
        return True

    def _serve(self) -> None:
        queue = self._queue
        while True:
            with self._lock:
                while not queue:
                    self._idle += 1
                    woken = self._wake.wait(_IDLE_SECONDS)
                    self._idle -= 1
                    if not woken and not queue:
                        self._threads -= 1
                        return
                work = queue.popleft()
            if work.claim():
                work.run()


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def worker_pool() -> WorkerPool:
    """The process-wide pool (created on first use)."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = WorkerPool(max(32, (os.cpu_count() or 1) * 8))
    return _pool


def start_thread(fn: Callable[[], Any], on_done: Callable[[Work], None] | None = None) -> Work:
    """Run ``fn`` on a worker thread (in a copy of this context); return its work item.

    Unlike :func:`parallel`, nobody steals the item: use it for work that must run
    beside the caller (a node whose items the caller streams).
    """
    work = Work(fn, on_done)
    pool = worker_pool()
    if pool._threads >= pool.max_workers and len(pool._queue) >= pool._idle:
        # Every worker is busy: a thread of its own, so the work starts now.
        if work.claim():
            threading.Thread(target=work.run, name="rillet-worker", daemon=True).start()
        return work
    pool.submit(work)
    return work


class _Batch:
    __slots__ = ("cond", "finished")

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.finished: list[Work] = []

    def done(self, work: Work) -> None:
        with self.cond:
            self.finished.append(work)
            self.cond.notify()


def parallel(
    calls: Sequence[Callable[[], T]],
    *,
    limit: int | None = None,
    fail_fast: bool = False,
) -> list[T]:
    """Run ``calls`` in parallel (each in a copy of this context), at most ``limit`` at
    once; return their results in order.

    This thread runs a share of the calls itself, and every call no worker has taken
    yet, so it never waits on work that has not started. Without ``fail_fast`` every
    call finishes before this returns and the first error, in call order, is raised.
    With ``fail_fast`` the first error (in the order they happen) is raised at once:
    calls not started yet never start, calls running go on in the background.
    """
    if not calls:
        return []
    if len(calls) == 1:
        return [calls[0]()]
    batch = _Batch()
    items = [Work(call, batch.done) for call in calls]
    width = len(items) if not limit or limit >= len(items) else limit
    pool = worker_pool()
    queue = deque(items)  # not handed to the pool yet
    submitted: deque[Work] = deque()  # handed to the pool, maybe not taken yet
    in_flight = 0
    left = len(items)
    # Failing fast, this thread only runs a call when no worker can (the pool is
    # saturated), so it stays free to see the first failure at once.
    own_share = 0 if fail_fast else 1
    stranded = False  # some call waits for a worker the full pool cannot give it
    while left:
        while queue and in_flight < width - own_share:
            work = queue.popleft()
            submitted.append(work)
            in_flight += 1
            if not pool.submit(work):
                stranded = True
        # Run here one call no thread has taken: a queued one, or the latest one
        # handed to the pool (workers take the earliest first).
        mine = None
        if own_share or stranded:
            mine = queue.popleft() if queue else None
            if mine is not None:
                mine.claim()
                in_flight += 1
            else:
                while submitted:
                    candidate = submitted.pop()
                    if candidate.claim():
                        mine = candidate
                        break
        if mine is not None:
            mine.run()
        with batch.cond:
            if mine is None and not batch.finished:
                batch.cond.wait()
            finished, batch.finished = batch.finished, []
        for work in finished:
            left -= 1
            in_flight -= 1
            if fail_fast and work.error is not None:
                for rest in (*queue, *submitted):
                    rest.claim()  # never starts
                raise work.error
    for work in items:
        if work.error is not None:
            raise work.error
    return [work.result for work in items]


async def to_thread(fn: Callable[[], T]) -> T:
    """Await ``fn()`` run on a worker thread (in a copy of this context).

    Its exception arrives as itself, except ``StopIteration``, which no coroutine can
    raise (Python turns it into a ``RuntimeError`` carrying it); :func:`in_thread`
    hands back the raw outcome. Cancelling the caller returns at once: the thread
    cannot be interrupted, so it finishes its current call in the background and its
    result is dropped.
    """
    work = await in_thread(fn)
    outcome: T = work.outcome()
    return outcome


async def in_thread(fn: Callable[[], Any]) -> Work:
    """Run ``fn()`` on a worker thread; return the finished :class:`Work` (its
    ``result`` or ``error``) without raising the error."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def wake(_: Work) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            loop.call_soon_threadsafe(_resolve, future)

    work = start_thread(fn, wake)
    await future
    return work


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def run_coroutine(awaitable: Awaitable[T]) -> T:
    """Run an awaitable from sync code and return its result.

    Inside a graph run, it runs on the run's own event loop, which every async node,
    branch and tool of the run shares (so a module-level ``asyncio.Semaphore`` works
    across parallel nodes). Outside a run, on a thread without a running loop, it uses
    ``asyncio.run``; on a thread whose loop is running (sync code called from async
    code), on a private loop thread, so this loop is never asked to wait for itself.
    """
    from rillet.runtime._context import current_task

    task = current_task.get()
    if task is not None:
        return task.run.root.run_coroutine(_as_coroutine(awaitable))
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_as_coroutine(awaitable))
    holder = LoopThread()
    try:
        return holder.run(_as_coroutine(awaitable))
    finally:
        holder.close()


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _as_coroutine(awaitable: Awaitable[T]) -> Coroutine[Any, Any, T]:
    if asyncio.iscoroutine(awaitable):
        return awaitable
    return _await(awaitable)


class LoopThread:
    """An event loop on a daemon thread of its own, for the async code of a sync run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._futures: set[Any] = set()
        self._closed = False
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            ready.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=serve, name="rillet-loop", daemon=True)
        self._thread.start()
        ready.wait()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on this loop and wait for it here.

        :raises asyncio.CancelledError: if :meth:`cancel_all` cancelled it.
        """
        import concurrent.futures

        ctx = contextvars.copy_context()

        async def guarded() -> T:
            return await coro

        if self._closed:
            coro.close()
            raise asyncio.CancelledError("the run's event loop is closed")
        future = asyncio.run_coroutine_threadsafe(_in_context(ctx, guarded), self.loop)
        self._futures.add(future)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            self._close_unstarted(coro)
            raise asyncio.CancelledError("cancelled because the run was stopped") from None
        finally:
            self._futures.discard(future)

    def _close_unstarted(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Close ``coro`` if it was cancelled before it started (else Python warns that
        it was never awaited). On the loop thread: the cancel was queued there before,
        so nothing starts it after this runs."""
        def close() -> None:
            if inspect.iscoroutine(coro) and inspect.getcoroutinestate(coro) == "CORO_CREATED":
                coro.close()

        try:
            self.loop.call_soon_threadsafe(close)
        except RuntimeError:  # the loop is closed: nothing can start it
            close()

    def cancel_all(self) -> None:
        """Cancel every coroutine this loop runs for the run."""
        for future in list(self._futures):
            future.cancel()

    def close(self) -> None:
        """Cancel what still runs, stop the loop and let its thread end."""
        if self._closed:
            return
        self._closed = True
        self.cancel_all()
        loop = self.loop

        def stop() -> None:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()

            async def finish() -> None:
                # Let the cancelled tasks end (bounded: a node may ignore the cancel), so
                # none is left pending in a closed loop, destroyed later by the GC.
                if tasks:
                    await asyncio.wait(tasks, timeout=0.5)
                await loop.shutdown_asyncgens()
                loop.stop()

            loop.create_task(finish())

        try:
            loop.call_soon_threadsafe(stop)
        except RuntimeError:
            return
        self._thread.join(timeout=1.0)
        if not self._thread.is_alive():
            loop.close()


async def _in_context(ctx: contextvars.Context, fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    # The coroutine runs as a task created in the caller's context copy.
    task = asyncio.get_running_loop().create_task(fn(), context=ctx)
    return await task
