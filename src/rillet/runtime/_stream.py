"""Root runs that stream: a producer (the run) and a consumer (the generator) joined
by a bounded bus.

``stream()`` runs the loop on its own thread and yields from the bus on the caller's
thread; ``astream()`` runs it as an asyncio task. Leaving the generator early closes
the bus (so running nodes stop at their next write), then waits for the run to end:
no thread or task outlives the generator.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from rillet.errors import StreamClosedError
from rillet.stream._bus import SyncBus

if TYPE_CHECKING:
    from rillet.stream._bus import AsyncBus
from rillet.stream._format import SKIP, Formatter, Many


class Done:
    """The end of a run on the bus, with the error that ended it, if any."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


def stream_sync(run: Callable[[], Any], bus: SyncBus, table: Formatter) -> Iterator[Any]:
    def runner() -> None:
        try:
            run()
        except StreamClosedError:
            bus.put_final(Done(None))
        except BaseException as exc:
            bus.put_final(Done(exc))
        else:
            bus.put_final(Done(None))

    ctx = contextvars.copy_context()
    thread = threading.Thread(target=ctx.run, args=(runner,), name="rillet-run", daemon=True)
    thread.start()
    items = bus._items
    pop = items.popleft
    low_water = bus.low_water
    try:
        while True:
            if not items:
                bus.wait()
            event = pop()
            if bus._producers_waiting and len(items) <= low_water:
                bus.notify_producers()
            cls = event.__class__
            fmt = table.get(cls)
            if fmt is None:
                if cls is Done:
                    if event.error is not None:
                        raise event.error
                    return
                continue
            out = fmt(event)
            if out.__class__ is Many:
                yield from out.items
            elif out is not SKIP:
                yield out
    finally:
        bus.close()
        thread.join()


async def stream_async(
    start: Callable[[AsyncBus], Callable[[], Awaitable[Any]]], table: Formatter
) -> AsyncIterator[Any]:
    """Yield a run's items; ``start(bus)`` sets the run up on this event loop's bus
    and returns the coroutine function that runs it."""
    import asyncio

    from rillet.stream._bus import AsyncBus

    bus = AsyncBus(asyncio.get_running_loop())
    run = start(bus)

    async def runner() -> None:
        try:
            await run()
        except StreamClosedError:
            bus.put_final(Done(None))
        except BaseException as exc:
            bus.put_final(Done(exc))
            if isinstance(exc, asyncio.CancelledError):
                raise
        else:
            bus.put_final(Done(None))

    task = asyncio.ensure_future(runner())
    items = bus._items
    pop = bus.pop_nowait
    try:
        while True:
            if not items:
                await bus.wait()
            event = pop()
            cls = event.__class__
            fmt = table.get(cls)
            if fmt is None:
                if cls is Done:
                    if event.error is not None:
                        raise event.error
                    return
                continue
            out = fmt(event)
            if out.__class__ is Many:
                for item in out.items:
                    yield item
            elif out is not SKIP:
                yield out
    finally:
        bus.close()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
