"""Client errors as the API gives them: a status code and ``{"detail": "..."}``.

Handlers raise :class:`ApiError`; the app turns it (and Starlette's own HTTP errors)
into the JSON body. The ``read_*`` helpers check a request body's fields and raise
422 with a message naming the field and what it should be.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request

from rillet.server import _json

__all__ = ["ApiError", "read_body", "read_int", "read_str", "read_type"]

MAX_BODY = 16 * 1024 * 1024  # bytes; a bigger body is refused with 413


class ApiError(Exception):
    """An error the client caused (or a missing resource): ``status`` and ``detail``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


async def read_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body (``{}`` when empty).

    :raises ApiError: 413 for a body over 16 MiB, 422 for one that is not a JSON object.
    """
    try:
        return await _read_body(request)
    except ClientDisconnect:
        # The client went away mid-body: nobody reads the answer, but an ApiError
        # ends the request quietly (uncaught, it was a traceback in the log).
        raise ApiError(400, "the client closed the connection before sending the "
                       "whole body") from None


async def _read_body(request: Request) -> dict[str, Any]:
    raw = bytearray()
    stream = request.stream()
    async for chunk in stream:
        raw += chunk
        if len(raw) > MAX_BODY:
            # Read (and drop) the rest, up to a bound, so the client can finish sending
            # and read the answer on a connection that is still whole.
            dropped = len(raw)
            async for chunk in stream:
                dropped += len(chunk)
                if dropped > 4 * MAX_BODY:
                    break
            raise ApiError(413, f"Request body is larger than {MAX_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        body = _json.loads(bytes(raw))
    except ValueError:
        raise ApiError(422, "Invalid JSON in request body") from None
    if not isinstance(body, dict):
        raise ApiError(422, "Request body must be a JSON object")
    return body


_NAMES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
          int: "an integer"}


def read_type(body: dict[str, Any], key: str, kind: type, default: Any = None) -> Any:
    """``body[key]`` if it is a ``kind`` (``None`` and missing give ``default``)."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiError(422, f"'{key}' must be {_NAMES.get(kind, kind.__name__)}, got {value!r}")
    return value


def read_str(body: dict[str, Any], key: str, default: str | None = None,
             choices: tuple[str, ...] | None = None) -> Any:
    value = read_type(body, key, str, default)
    if choices is not None and value is not None and value not in choices:
        raise ApiError(422, f"'{key}' must be one of {', '.join(choices)}; got {value!r}")
    return value


def read_int(body: dict[str, Any], key: str, default: int, low: int = 0,
             high: int = 10_000) -> int:
    value = body.get(key)
    if isinstance(value, str) and value.lstrip("-").isdigit():  # from a query string
        value = int(value)
    value = read_type({key: value}, key, int, default)
    if not low <= value <= high:
        raise ApiError(422, f"'{key}' must be between {low} and {high}, got {value}")
    return int(value)
