"""Server-sent events: framing, heartbeats, and a response that follows a run's log.

An event is framed as ``event: NAME``, ``data: JSON`` (one line), ``id: SEQ``; a
comment ``: heartbeat`` goes out whenever nothing was sent for
:data:`HEARTBEAT_SECONDS`, so clients and proxies see a live connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from starlette.responses import StreamingResponse

from rillet.server.storage import Event

__all__ = ["HEARTBEAT_SECONDS", "EventStream", "frame"]

HEARTBEAT_SECONDS = 5.0
_HEARTBEAT = b": heartbeat\n\n"


def frame(event: Event) -> bytes:
    """One SSE message for ``event`` (the data is compact JSON: one line)."""
    return b"event: %s\ndata: %s\nid: %d\n\n" % (event.event.encode(), event.data, event.seq)


class EventStream(StreamingResponse):
    """An SSE response of ``batches`` of events, each sent as one chunk; an empty
    batch sends a heartbeat (the follower makes one after :data:`HEARTBEAT_SECONDS`
    of quiet, see ``RunManager.follow``).

    ``on_disconnect`` is awaited when the client goes away before the events end (to
    cancel the run when the client asked for that).
    """

    def __init__(
        self,
        batches: AsyncIterator[list[Event]],
        *,
        headers: Mapping[str, str] | None = None,
        on_disconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._batches = batches
        self._on_disconnect = on_disconnect
        super().__init__(self._body(), media_type="text/event-stream",
                         headers={"Cache-Control": "no-store", **(headers or {})})

    async def _body(self) -> AsyncIterator[bytes]:
        finished = False
        try:
            async for events in self._batches:
                yield b"".join([frame(event) for event in events]) if events else _HEARTBEAT
            finished = True
        finally:
            if not finished and self._on_disconnect is not None:
                await asyncio.shield(self._on_disconnect())
