"""Run-scoped stream buses: bounded queues between the run and the consumer.

One bus per run. Producers call :meth:`put` from any thread; the consumer (the
``stream()`` generator, or ``astream()`` on its event loop) takes items in order. A bus
holds at most ``maxsize`` items: a producer on another thread blocks until the consumer
catches up (backpressure), so memory stays bounded when the consumer is slow. When the
consumer leaves (:meth:`close`), every later :meth:`put` raises
:class:`~rillet.errors.StreamClosedError`, so nodes that stream stop promptly.

The fast path of ``put`` is a deque append and a flag check: the lock is only taken
when the other side is asleep.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from rillet.errors import StreamClosedError

if TYPE_CHECKING:
    import asyncio

DEFAULT_MAXSIZE = 1024


class SyncBus:
    """A bus read by a thread (the ``stream()`` generator)."""

    __slots__ = (
        "_closed",
        "_consumer_waiting",
        "_items",
        "_lock",
        "_not_empty",
        "_not_full",
        "_producers_waiting",
        "low_water",
        "maxsize",
    )

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.maxsize = maxsize
        #: Blocked producers are woken once the consumer has drained the bus to this
        #: size, not at the first free slot: waking them per item would make the two
        #: threads trade the GIL on every item.
        self.low_water = maxsize // 2
        self._items: deque[Any] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._consumer_waiting = False
        self._producers_waiting = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def put(self, item: Any) -> None:
        """Append ``item``; block while the bus is full.

        :raises StreamClosedError: if the consumer has left.
        """
        items = self._items
        if len(items) >= self.maxsize or self._closed:
            self._wait_not_full()
        items.append(item)
        # The consumer publishes _consumer_waiting before it re-checks the deque, so
        # reading the flag after the append never misses a consumer about to sleep.
        if self._consumer_waiting:
            self._wake_consumer()

    def make_put(self, event_type: Any, ns: Any, *extra: Any) -> Any:
        """A fast ``lambda data: put(event_type(ns, data, *extra))`` for the hottest
        producers (stream writers, model tokens): one call per item instead of two."""
        items = self._items
        append = items.append
        maxsize = self.maxsize
        if extra:
            (more,) = extra

            def put_more(data: Any) -> None:
                if len(items) >= maxsize or self._closed:
                    self._wait_not_full()
                append(event_type(ns, data, more))
                if self._consumer_waiting:
                    self._wake_consumer()

            return put_more

        def put(data: Any) -> None:
            if len(items) >= maxsize or self._closed:
                self._wait_not_full()
            append(event_type(ns, data))
            if self._consumer_waiting:
                self._wake_consumer()

        return put

    def _wake_consumer(self) -> None:
        with self._lock:
            self._not_empty.notify()

    def put_final(self, item: Any) -> None:
        """Append ``item`` even if the bus is full or closed (end-of-run markers)."""
        self._items.append(item)
        if self._consumer_waiting:
            with self._lock:
                self._not_empty.notify()

    def _wait_not_full(self) -> None:
        if self._closed:
            raise StreamClosedError("the stream was closed by its consumer")
        with self._lock:
            self._producers_waiting += 1
            try:
                while len(self._items) >= self.maxsize and not self._closed:
                    self._not_full.wait()
            finally:
                self._producers_waiting -= 1
        if self._closed:
            raise StreamClosedError("the stream was closed by its consumer")

    def get(self) -> Any:
        """Take the next item, sleeping until there is one."""
        items = self._items
        if not items:
            self.wait()
        item = items.popleft()
        if self._producers_waiting and len(items) <= self.low_water:
            self.notify_producers()
        return item

    def wait(self) -> None:
        """Sleep until the bus has an item."""
        items = self._items
        with self._lock:
            self._consumer_waiting = True
            while not items:
                self._not_empty.wait()
            self._consumer_waiting = False

    @property
    def producers_waiting(self) -> int:
        return self._producers_waiting

    def notify_producers(self) -> None:
        """Wake producers blocked on a full bus (the consumer calls this after taking)."""
        with self._lock:
            self._not_full.notify_all()

    def close(self) -> None:
        """Refuse further items and wake every producer blocked on a full bus."""
        self._closed = True
        with self._lock:
            self._not_full.notify_all()
            self._not_empty.notify_all()
        self._items.clear()


class AsyncBus:
    """A bus read by a coroutine (the ``astream()`` generator) on one event loop.

    Producers on the loop's thread never block (they cannot); async producers may
    ``await wait_writable()`` to respect the bound. Producers on other threads (sync
    nodes run under ``astream``) block while the bus is full.
    """

    __slots__ = (
        "_closed",
        "_items",
        "_lock",
        "_loop",
        "_loop_thread",
        "_not_full",
        "_space_waiters",
        "_thread_producers_waiting",
        "_waiter",
        "blocked",
        "maxsize",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.maxsize = maxsize
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._items: deque[Any] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._space_waiters: list[asyncio.Future[None]] = []
        self._lock = threading.Lock()
        self._not_full = threading.Condition(self._lock)
        self._thread_producers_waiting = 0
        self._closed = False
        #: > 0 while sync code blocks the consumer's loop (a subgraph invoked with
        #: ``invoke()`` inside an async node): producers must not wait for it then.
        self.blocked = 0

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def full(self) -> bool:
        return len(self._items) >= self.maxsize

    def put(self, item: Any) -> None:
        """Append ``item`` (blocking while full if called from another thread).

        :raises StreamClosedError: if the consumer has left.
        """
        if self._closed:
            raise StreamClosedError("the stream was closed by its consumer")
        if threading.get_ident() != self._loop_thread:
            self._put_from_thread(item)
            return
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def put_final(self, item: Any) -> None:
        """Append ``item`` regardless of size or closing (end-of-run markers)."""
        self._items.append(item)
        if threading.get_ident() == self._loop_thread:
            self._wake()
        else:
            self._loop.call_soon_threadsafe(self._wake)

    def _put_from_thread(self, item: Any) -> None:
        if len(self._items) >= self.maxsize and not self.blocked:
            with self._lock:
                self._thread_producers_waiting += 1
                try:
                    while (
                        len(self._items) >= self.maxsize and not self._closed and not self.blocked
                    ):
                        self._not_full.wait(0.5 if self.blocked else None)
                finally:
                    self._thread_producers_waiting -= 1
            if self._closed:
                raise StreamClosedError("the stream was closed by its consumer")
        self._items.append(item)
        if self._waiter is not None:
            try:
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:  # the loop is closed: the consumer is gone
                raise StreamClosedError("the stream's event loop is closed") from None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def wait_writable(self) -> None:
        """Wait until the bus has room (for async producers on the loop's thread).

        :raises StreamClosedError: if the consumer has left.
        """
        while len(self._items) >= self.maxsize:
            if self._closed:
                raise StreamClosedError("the stream was closed by its consumer")
            fut = self._loop.create_future()
            self._space_waiters.append(fut)
            await fut
        if self._closed:
            raise StreamClosedError("the stream was closed by its consumer")

    def pop_nowait(self) -> Any:
        """Take the next item or raise ``IndexError``; wakes producers waiting for room."""
        item = self._items.popleft()
        if self._space_waiters or self._thread_producers_waiting:
            self._notify_space()
        return item

    async def wait(self) -> None:
        """Sleep until the bus has an item."""
        while not self._items:
            fut = self._loop.create_future()
            self._waiter = fut
            if self._items:  # re-check after publishing the waiter (threads race us)
                self._waiter = None
                return
            await fut

    def _notify_space(self) -> None:
        if len(self._items) >= self.maxsize and not self._closed:
            return
        waiters, self._space_waiters = self._space_waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
        if self._thread_producers_waiting:
            with self._lock:
                self._not_full.notify_all()

    def close(self) -> None:
        """Refuse further items and wake every blocked producer."""
        self._closed = True
        self._items.clear()
        self._notify_space()
        with self._lock:
            self._not_full.notify_all()
