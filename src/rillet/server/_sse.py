"""Server-sent events: framing, heartbeats, and a response that follows a run's log.

An event is framed as ``event: NAME``, ``data: JSON`` (one line), ``id: SEQ``; a
comment ``: heartbeat`` goes out whenever nothing was sent for
:data:`HEARTBEAT_SECONDS`, so clients and proxies see a live connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from starlette.responses import StreamingResponse

from rillet.server.storage import Event

__all__ = ["HEARTBEAT_SECONDS", "EventStream", "frame"]

HEARTBEAT_SECONDS = 5.0
_HEARTBEAT = b": heartbeat\n\n"
_DONE = object()


def frame(event: Event) -> bytes:
    """One SSE message for ``event`` (the data is compact JSON: one line)."""
    return b"event: %s\ndata: %s\nid: %d\n\n" % (event.event.encode(), event.data, event.seq)


class EventStream(StreamingResponse):
    """An SSE response of ``events``, with heartbeats.

    ``on_disconnect`` is awaited when the client goes away before the events end (to
    cancel the run when the client asked for that).
    """

    def __init__(
        self,
        events: AsyncIterator[Event],
        *,
        headers: Mapping[str, str] | None = None,
        on_disconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._events = events
        self._on_disconnect = on_disconnect
        super().__init__(self._body(), media_type="text/event-stream",
                         headers={"Cache-Control": "no-store", **(headers or {})})

    async def _body(self) -> AsyncIterator[bytes]:
        # The log is read by its own task into a small queue, so waiting for the next
        # event can time out (for a heartbeat) without cancelling the reader.
        queue: asyncio.Queue[object] = asyncio.Queue(maxsize=256)

        async def pump() -> None:
            try:
                async for event in self._events:
                    await queue.put(frame(event))
            finally:
                await queue.put(_DONE)

        reader = asyncio.get_running_loop().create_task(pump())
        finished = False
        try:
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield _HEARTBEAT
                    continue
                if item is _DONE:
                    finished = True
                    break
                assert isinstance(item, bytes)
                yield item
            reader.result()  # the reader's own error, if it had one
        finally:
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await reader
            if not finished and self._on_disconnect is not None:
                await asyncio.shield(self._on_disconnect())
