"""What both protocols share: a front-end run is an ordinary server run (made by
``api.runs._create_run`` from a body built here, so it is checked, stored, logged,
resumable and cancellable like any other), followed through its event log and turned
into parts (``_parts``), then framed as SSE ``data:`` lines by the protocol's encoder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from rillet.server import _json
from rillet.server._app import Server
from rillet.server._sse import HEARTBEAT_SECONDS
from rillet.server.api._common import authorized_thread, server_of
from rillet.server.api.runs import _create_run
from rillet.server.frontends._parts import STREAM_MODES, Part, PartMapper
from rillet.server.storage.base import Record

__all__ = ["DataStream", "follow_parts", "known_thread", "pending_interrupts", "start_run",
           "thread_values"]

_KEEP_ALIVE = b": keep-alive\n\n"


async def start_run(request: Request, graph_id: str, thread_id: str, *,
                    input: Any = None, command: dict[str, Any] | None = None,
                    metadata: dict[str, Any], config: dict[str, Any] | None = None,
                    ) -> tuple[Server, Record]:
    """Start a run of ``graph_id`` (a graph name or an assistant id) on ``thread_id``,
    made if missing, logging the stream modes the parts are made from."""
    body: dict[str, Any] = {
        "assistant_id": graph_id, "input": input, "command": command,
        "stream_mode": STREAM_MODES, "stream_subgraphs": True, "if_not_exists": "create",
        "metadata": metadata, "config": config or {},
    }
    return await _create_run(request, thread_id, body)


async def known_thread(request: Request, thread_id: str) -> Record:
    """The thread as this request may see it (``{}`` when it does not exist yet; 404
    when the auth handler hides it), to read its values and interrupts."""
    server = server_of(request)
    if await server.storage.get_thread(thread_id) is None:
        return {}
    return await authorized_thread(request, "read", thread_id)


def thread_values(thread: Record) -> dict[str, Any]:
    """The thread's values after its last run (``{}`` for a new thread)."""
    values = thread.get("values")
    return values if isinstance(values, dict) else {}


def pending_interrupts(thread: Record) -> list[str]:
    """The ids of the interrupts the thread waits on."""
    found = thread.get("interrupts") or {}
    return [str(item.get("id")) for items in found.values() for item in items]


async def follow_parts(server: Server, run: Record) -> AsyncIterator[list[Part]]:
    """The run's parts from the start of its log, in batches; an empty batch after
    :data:`HEARTBEAT_SECONDS` of quiet."""
    mapper = PartMapper(run["thread_id"])
    async for events in server.runs.follow(run["run_id"], -1, idle=HEARTBEAT_SECONDS):
        parts: list[Part] = []
        for event in events:
            parts += mapper.feed(event.event, _json.loads(event.data))
        if parts or not events:
            yield parts


class DataStream(StreamingResponse):
    """SSE of ``data: JSON`` lines: each part encoded by ``encode``, ``: keep-alive``
    when quiet, then ``last`` (e.g. ``data: [DONE]``)."""

    def __init__(self, parts: AsyncIterator[list[Part]],
                 encode: Callable[[Part], Iterable[dict[str, Any]]], *,
                 headers: Mapping[str, str] | None = None, last: bytes = b"") -> None:
        self._parts, self._encode, self._last = parts, encode, last
        super().__init__(self._body(), media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", **(headers or {})})

    async def _body(self) -> AsyncIterator[bytes]:
        async for parts in self._parts:
            if not parts:
                yield _KEEP_ALIVE
                continue
            yield b"".join(b"data: %s\n\n" % _json.dumps(item)
                           for part in parts for item in self._encode(part))
        if self._last:
            yield self._last
