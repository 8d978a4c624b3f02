"""Helpers the route modules share: JSON responses, pagination, lookups."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from rillet.server import _json
from rillet.server._app import Server, server_of
from rillet.server._auth import Filters, authorize, matches
from rillet.server._errors import ApiError
from rillet.server.storage.base import Record

__all__ = [
    "authorize", "authorized_thread", "filtered_page", "json_response", "matches",
    "page_headers", "public", "server_of", "thread_or_404",
]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_json.dumps(data), status_code=status, media_type="application/json",
                    headers=headers)


def page_headers(offset: int, count: int, total: int) -> dict[str, str]:
    """``X-Pagination-Total`` and, when there is more, ``X-Pagination-Next``."""
    headers = {"X-Pagination-Total": str(total)}
    if offset + count < total:
        headers["X-Pagination-Next"] = str(offset + count)
    return headers


def public(record: Record) -> Record:
    """A stored record without its private fields (names starting with ``_``)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


async def thread_or_404(server: Server, thread_id: str, filters: Filters | None = None,
                        ) -> Record:
    """The thread, if it exists and its metadata passes the auth ``filters``."""
    thread = await server.storage.get_thread(thread_id)
    if thread is None or not matches(thread.get("metadata"), filters):
        raise ApiError(404, f"Thread with ID {thread_id} not found")
    return thread


async def authorized_thread(request: Request, action: str, thread_id: str | None = None,
                            **value: Any) -> Record:
    """The thread of the path (or ``thread_id``) once the auth handler for
    ``threads.<action>`` let this request act on it (a thread its filter hides: 404).
    The hook a route on one thread calls first; see :func:`rillet.server._auth.authorize`."""
    thread_id = thread_id or path(request, "thread_id")
    filters = await authorize(request, "threads", action, {"thread_id": thread_id, **value})
    return await thread_or_404(server_of(request), thread_id, filters)


async def filtered_page(
    search: Callable[..., Awaitable[tuple[list[Record], int]]], query: dict[str, Any],
    filters: Filters | None, limit: int, offset: int,
) -> tuple[list[Record], int]:
    """``search(**query)``'s page and total as the auth ``filters`` let this user see
    them: the filter applies before the page is cut (every match is read, then cut)."""
    if not filters:
        return await search(**query, limit=limit, offset=offset)
    every, _ = await search(**query, limit=10**9, offset=0)
    mine = [record for record in every if matches(record.get("metadata"), filters)]
    return mine[offset:offset + limit], len(mine)


def path(request: Request, name: str) -> str:
    value: str = request.path_params[name]
    return value
