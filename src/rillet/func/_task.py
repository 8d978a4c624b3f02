"""``@task``: a function whose calls run as tasks of the graph run that makes them.

Calling a task inside an ``@entrypoint`` (or inside another task, or a graph node)
starts it at once, beside the caller, and returns a future: ``.result()`` in sync code,
``await`` in async code. Each call is a task of the caller's step, with a deterministic
id (the caller's id, the step and the call's index), so when the step runs again after
an interrupt or a failure, calls that finished return their saved result without
running, and the one that paused gets its answer.

A call's lifecycle is :func:`call_steps`, run by the same drivers as a node
(:func:`~rillet.runtime._sync.drive_task`, on a worker thread, or
:func:`~rillet.runtime._async.drive_task_async`, as an asyncio task of the run's loop).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import threading
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from rillet._constants import PUSH
from rillet.errors import GraphInterrupt, OutsideRunError, StreamClosedError, UsageError
from rillet.graph._node import NodeSpec, node_name, retry_policies
from rillet.runtime._cache import WRITES_NS, cache_key, check_policy, identifier, logger, stored
from rillet.runtime._context import Task, current_task
from rillet.runtime._effects import Call, Failure, Sleep
from rillet.runtime._loop import STOPPED
from rillet.runtime._saved import RETURN, ROUTE
from rillet.stream._events import TaskStartEvent

if TYPE_CHECKING:
    from rillet.runtime._loop import Loop

P = ParamSpec("P")
T = TypeVar("T")


class TaskFuture(concurrent.futures.Future[T]):
    """The result of a task call made from sync code: ``.result()`` waits for it;
    it can also be awaited."""

    def __await__(self) -> Generator[Any, None, T]:
        return asyncio.wrap_future(self).__await__()


class Calls:
    """The task calls one task (an entrypoint, a node, a task) has made."""

    __slots__ = ("_lock", "children", "count", "finished", "loop", "previous", "root", "saved")

    def __init__(self, loop: Loop, previous: Any = None, root: Calls | None = None) -> None:
        self.loop = loop
        #: An entrypoint's ``previous``: what the thread's last run saved.
        self.previous = previous
        #: The calls of the step's task (results are saved with it).
        self.root: Calls = root or self
        self.count = 0
        self.children: list[tuple[Task, Any]] = []
        #: (call id, result) of every call that finished, in the whole call tree.
        self.finished: list[tuple[str, Any]] = []
        self.saved: set[str] = set()
        self._lock = threading.Lock()

    def add(self, child: Task) -> int:
        """Register a call; returns its index among this task's calls."""
        with self._lock:
            index = self.count
            self.count += 1
            self.children.append((child, None))
        return index

    def started(self, index: int, future: Any) -> None:
        """The future of call ``index``."""
        with self._lock:
            self.children[index] = (self.children[index][0], future)

    def unsaved(self) -> list[tuple[str, Any]]:
        """Results of finished calls not saved yet."""
        root = self.root
        with root._lock:
            return [(cid, value) for cid, value in root.finished if cid not in root.saved]


def calls_of(task: Task) -> Calls:
    """``task``'s calls, made on first use."""
    calls = task.calls
    if calls is None:
        calls = task.calls = Calls(task.run.loop)
    return calls  # type: ignore[no-any-return]


class TaskFunction(Generic[P, T]):
    """What ``@task`` makes of a function: call it inside a run to start a task."""

    def __init__(self, fn: Callable[P, Any], name: str, policies: tuple[Any, ...],
                 cache_policy: Any = None) -> None:
        self.func = fn
        self.name = name
        is_async = inspect.iscoroutinefunction(fn)
        self.node = NodeSpec(
            name, _packed(fn, is_async), is_async,
            retry=policies[0] if policies else None, retry_policies=policies, functional=True,
            cache_policy=cache_policy,
            # As LangGraph: a task's entries are named by its function alone.
            cache_ns=(WRITES_NS, identifier(fn)),
        )
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        parent = current_task.get()
        if parent is None:
            raise OutsideRunError(
                f"Task {self.name!r} was called outside a running graph: call it inside an "
                f"@entrypoint function (or a node, or another task) and take its result "
                f"with .result() or await; to test the function alone, call "
                f"{self.name}.func(...)."
            )
        return start_call(parent, self.node, args, kwargs)

    def __repr__(self) -> str:
        return f"task({self.name!r})"


def task(
    func: Callable[P, Any] | None = None,
    *,
    name: str | None = None,
    retry_policy: Any = None,
    cache_policy: Any = None,
) -> Any:
    """Make ``func`` a task: calling it inside an ``@entrypoint`` runs it as a task of
    the run (in parallel with the caller) and returns a future. ``retry_policy`` is a
    ``RetryPolicy`` or a list of them; ``cache_policy`` a ``CachePolicy`` (keyed by the
    call's arguments), used when the entrypoint has a ``cache``. Use as ``@task`` or
    ``@task(name=...)``.

    :raises UsageError: for a bad policy.
    """
    policy = check_policy("task(cache_policy=...)", cache_policy)

    def decorate(fn: Callable[P, Any]) -> TaskFunction[P, Any]:
        if not callable(fn):
            raise UsageError(f"@task decorates a function, got {type(fn).__name__}: {fn!r}")
        task_name = name or node_name(fn)
        return TaskFunction(fn, task_name, retry_policies(task_name, None, retry_policy),
                            policy)

    return decorate(func) if func is not None else decorate


def _packed(fn: Callable[..., Any], is_async: bool) -> Callable[[Any], Any]:
    """The node function of a task: called with ``(args, kwargs)``; a ``runtime``
    parameter the caller left out gets the task's ``Runtime``."""
    if _takes_runtime(fn):
        plain = fn

        def fn(*args: Any, **kwargs: Any) -> Any:
            if "runtime" not in kwargs:
                task = current_task.get()
                assert task is not None
                kwargs["runtime"] = task.runtime
            return plain(*args, **kwargs)

    if is_async:
        async def call_async(packed: Any) -> Any:
            args, kwargs = packed
            return await run_body_async(fn, args, kwargs)

        return call_async

    def call(packed: Any) -> Any:
        args, kwargs = packed
        return run_body(fn, args, kwargs)

    return call


# ----------------------------------------------------------------- calling


def start_call(parent: Task, node: NodeSpec, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Any:
    """Start a call of task ``node`` made by ``parent``; return its future."""
    calls = calls_of(parent)
    loop = calls.loop
    if parent.resume is None:
        parent.resume = {}  # answers to the call's interrupt() are saved with the parent
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    child = Task(parent.run, node, parent.step, (args, kwargs), (PUSH,), (), parent.writer)
    index = calls.add(child)
    child.path = (PUSH, parent.path, index)
    child.resume = parent.resume
    child.calls = Calls(loop, root=calls.root)
    persist = parent.run.persist
    cached = persist.call_results if persist is not None else None
    future: Any
    if cached and child.id in cached:
        child.done = True
        child.result = cached[child.id]
        future = running.create_future() if running is not None else TaskFuture()
        future.set_result(child.result)
        calls.started(index, future)
        return future
    run = parent.run
    if run.want_tasks or run.want_debug:
        run.put(TaskStartEvent(run.ns, child.step, datetime.now(UTC).isoformat(), child.id,
                               child.name, child.input, child.triggers))
    if running is not None:
        # The call's asyncio task is its future: cancelling it (as gather() does when
        # the caller is cancelled) cancels the call.
        future = running.create_task(_run_async(loop, child))
        calls.started(index, future)
    else:
        from rillet.runtime._workers import start_thread

        future = TaskFuture()
        calls.started(index, future)
        start_thread(lambda: _run_sync(loop, child, future))
    return future


def _takes_runtime(fn: Callable[..., Any]) -> bool:
    try:
        return "runtime" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def call_steps(loop: Loop, task: Task) -> Generator[Call | Sleep, Any, None]:
    """One call from start to end: the function (with its retry policy), then its
    result. Never raises what the function raised: it lands on ``task.error``."""
    observers = loop.observers
    cache = loop.graph.cache
    if cache is not None and task.node.cache_policy is not None:
        try:
            args, kwargs = task.input
            cache_key(task, args, kwargs)
        except Exception as exc:
            exc.add_note(f"While making the cache key of task {task.name!r}")
            loop.fail(task, exc)
            return
        if (yield from _cached_call(loop, task)):
            return
    for observer in observers:
        observer.task_started(loop, task)
    outcome = yield from loop.attempts(task, call=True)
    if outcome is STOPPED:
        return
    task.result = outcome
    task.writes = [(RETURN, outcome)]
    task.done = True
    for observer in observers:
        observer.task_finished(loop, task)
    if task.cache_key is not None:
        full, ttl = task.cache_key
        stored(task, (yield Call(cache.set, ({full: ({"result": outcome}, ttl)},),
                                 afn=cache.aset)))


def _cached_call(loop: Loop, task: Task) -> Generator[Call, Any, bool]:
    """Look a call up in the cache; when found, it is done without running."""
    cache = loop.graph.cache
    full = task.cache_key[0]
    found = yield Call(cache.get, ([full],), afn=cache.aget)
    if found.__class__ is Failure:
        logger.warning("cache read failed, running task %r: %r", task.name, found.error)
        return False
    entry = found.get(full)
    if not isinstance(entry, dict) or "result" not in entry:
        return False
    task.result = entry["result"]
    task.writes = [(RETURN, task.result)]
    task.done = True
    for observer in loop.observers:
        observer.task_cached(loop, task)
    return True


def _run_sync(loop: Loop, child: Task, future: TaskFuture[Any]) -> None:
    from rillet.runtime._sync import drive_task

    try:
        drive_task(loop, child, call_steps(loop, child))
        if child.done:
            writes = _finished(child)
            if writes:
                _save_now(child, writes)
    except BaseException as exc:  # an observer's failure (the consumer left)
        if child.error is None:
            child.error = exc
    _settle(child, future)


async def _run_async(loop: Loop, child: Task) -> Any:
    from rillet.runtime._async import drive_task_async

    try:
        await drive_task_async(loop, child, call_steps(loop, child))
        if child.done:
            writes = _finished(child)
            if writes:
                await _asave_now(child, writes)
    except asyncio.CancelledError:
        raise
    except BaseException as exc:
        if child.error is None:
            child.error = exc
    return _outcome(child)


def _settle(child: Task, future: TaskFuture[Any]) -> None:
    try:
        future.set_result(_outcome(child))
    except BaseException as exc:
        future.set_exception(exc)


def _outcome(child: Task) -> Any:
    """A finished call's result, or what it raises for its caller."""
    if child.done:
        return child.result
    if child.error is not None:
        raise child.error
    if child.paused:
        raise GraphInterrupt(child.interrupts)
    raise StreamClosedError(f"the run was stopped before task {child.name!r} finished")


# ------------------------------------------------------------- saving results


def _finished(child: Task) -> list[Any] | None:
    """Record a finished call's result; the writes to save for it now, if the run
    saves as it goes."""
    root = child.calls.root
    with root._lock:
        root.finished.append((child.id, child.result))
    persist = child.run.persist
    if persist is None or persist.durability == "exit" or persist.checkpoint_id is None:
        return None
    from rillet.checkpoint.base import PendingWrite

    try:
        dumps = persist.serde.dumps
        return [PendingWrite(child.id, 0, RETURN, dumps(child.result)),
                PendingWrite(child.id, 1, ROUTE, dumps([]))]
    except Exception:
        return None  # not serializable: the step's end reports it


def _save_now(child: Task, writes: list[Any]) -> None:
    persist = child.run.persist
    try:
        persist.saver.save_writes(persist.thread_id, persist.ns, persist.checkpoint_id, writes)
    except Exception:
        return  # saved again with the step's writes, which reports a lasting failure
    _mark_saved(child)


async def _asave_now(child: Task, writes: list[Any]) -> None:
    persist = child.run.persist
    saver = persist.saver
    try:
        if saver.blocking:
            await saver.asave_writes(persist.thread_id, persist.ns, persist.checkpoint_id,
                                     writes)
        else:
            saver.save_writes(persist.thread_id, persist.ns, persist.checkpoint_id, writes)
    except Exception:
        return
    _mark_saved(child)


def _mark_saved(child: Task) -> None:
    root = child.calls.root
    with root._lock:
        root.saved.add(child.id)


# ---------------------------------------------------- the caller's side


def run_body(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call ``fn`` for the current task, then wait for every task it started: a call
    that paused pauses this task too, with the interrupts of all its calls."""
    task = current_task.get()
    try:
        result = fn(*args, **kwargs)
    except GraphInterrupt as exc:
        _wait_sync(task)
        raise _combined(task, exc.interrupts) from None
    except BaseException:
        _wait_sync(task)
        raise
    _wait_sync(task)
    if any(child.paused for child, _ in _children(task)):
        raise _combined(task, ())
    return result


async def run_body_async(fn: Callable[..., Any], args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Any:
    """:func:`run_body` for an async function."""
    task = current_task.get()
    try:
        result = await fn(*args, **kwargs)
    except GraphInterrupt as exc:
        await _wait_async(task)
        raise _combined(task, exc.interrupts) from None
    except asyncio.CancelledError:
        await _cancel_children(task)
        raise
    except BaseException:
        await _wait_async(task)
        raise
    await _wait_async(task)
    if any(child.paused for child, _ in _children(task)):
        raise _combined(task, ())
    return result


def _children(task: Task | None) -> list[tuple[Task, Any]]:
    calls = task.calls if task is not None else None
    return list(calls.children) if calls is not None else []


def _wait_sync(task: Task | None) -> None:
    for _, future in _children(task):
        if isinstance(future, concurrent.futures.Future):
            concurrent.futures.wait([future])


async def _wait_async(task: Task | None) -> None:
    waiting = [asyncio.wrap_future(f) if isinstance(f, concurrent.futures.Future) else f
               for _, f in _children(task)]
    if waiting:
        await asyncio.gather(*waiting, return_exceptions=True)


async def _cancel_children(task: Task | None) -> None:
    """The caller was cancelled: so are its calls still running on this loop (a call on
    a worker thread cannot be stopped; it ends with the run)."""
    running = [f for _, f in _children(task) if isinstance(f, asyncio.Task) and not f.done()]
    for future in running:
        future.cancel()
    if running:
        await asyncio.gather(*running, return_exceptions=True)


def _combined(task: Task | None, raised: tuple[Any, ...]) -> GraphInterrupt:
    """One interrupt for the task: what its calls asked, in call order, then what it
    asked itself."""
    interrupts: list[Any] = []
    seen: set[str] = set()
    for child, _ in _children(task):
        for one in child.interrupts:
            if one.id not in seen:
                seen.add(one.id)
                interrupts.append(one)
    for one in raised:
        if one.id not in seen:
            seen.add(one.id)
            interrupts.append(one)
    return GraphInterrupt(tuple(interrupts))
