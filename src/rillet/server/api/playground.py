"""The playground page: ``GET /`` and its files under ``/playground/``.

The files ship in the wheel (``rillet/server/playground/``: plain HTML, CSS and JS, no
build step) and are served to anyone (see :mod:`rillet.server._public`): the page
itself asks for the API key or token and sends it with each API call. The page links
its files as ``playground/NAME?v=HASH``; a file asked for with its current hash is
cached for a year, otherwise revalidated (ETag); the page is always revalidated.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rillet.server._errors import ApiError

__all__ = ["ROUTES"]

_TYPES = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
_PAGE = "index.html"
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_YEAR = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class _File:
    body: bytes
    etag: str


@functools.cache
def _file(name: str) -> _File:
    body = (resources.files("rillet.server") / "playground" / name).read_bytes()
    if name == _PAGE:  # each file's link carries its hash, so a new release is fetched anew
        for asset in _TYPES:
            body = body.replace(f"{{{{{asset}}}}}".encode(),
                                f"playground/{asset}?v={_file(asset).etag}".encode())
    return _File(body, hashlib.sha256(body).hexdigest()[:16])


def _answer(request: Request, found: _File, media_type: str, cache: str,
            extra: dict[str, str] | None = None) -> Response:
    headers = {"Cache-Control": cache, "ETag": f'"{found.etag}"',
               "X-Content-Type-Options": "nosniff", **(extra or {})}
    if request.headers.get("if-none-match") == f'"{found.etag}"':
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type=media_type, headers=headers)


async def page(request: Request) -> Response:
    return _answer(request, _file(_PAGE), "text/html; charset=utf-8", "no-cache",
                   {"Content-Security-Policy": _POLICY, "Referrer-Policy": "no-referrer"})


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _TYPES:
        raise ApiError(404, f"No playground file '{name}' (there are: {', '.join(_TYPES)})")
    found = _file(name)
    cache = _YEAR if request.query_params.get("v") == found.etag else "no-cache"
    return _answer(request, found, _TYPES[name], cache)


ROUTES = [
    Route("/", page, methods=["GET"]),
    Route("/playground/{name}", asset, methods=["GET"]),
]
