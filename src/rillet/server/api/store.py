"""The store: items (put, get, delete), search, namespaces. It is rillet's own
:class:`~rillet.store.sqlite.SqliteStore` (``store.sqlite`` in the data dir), the same
store the served graphs' nodes get (``get_store()``, a ``store`` argument,
``runtime.store``), so what a graph remembers is what ``client.store`` reads.

A namespace is a list of labels in bodies, and labels joined by ``.`` in the query of
``GET /store/items`` (so a label may not hold a ``.``). Bad namespaces, keys and
options are a 422 saying what to fix; ``GET`` of an item that is not there answers
``null``, as ``langgraph dev`` does.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rillet.errors import RilletError
from rillet.server._errors import ApiError, read_body, read_int, read_type
from rillet.server.api._common import authorize, json_response, server_of
from rillet.store import InvalidNamespaceError, Item

__all__ = ["ROUTES"]


def _namespace(body: dict[str, Any], key: str, *, required: bool = True,
               writable: bool = False) -> tuple[str, ...]:
    """``body[key]`` as a namespace: a list of non-empty string labels without ``.``
    (and, to write to, non-empty and not under ``langgraph``)."""
    raw = body.get(key)
    if raw is None and not required:
        return ()
    if not isinstance(raw, list) or not all(isinstance(label, str) for label in raw):
        raise ApiError(422, f"'{key}' must be a list of strings (namespace labels), "
                       f"got {raw!r}")
    return _checked(tuple(raw), key, writable=writable)


def _checked(namespace: tuple[str, ...], key: str, *, writable: bool = False) -> tuple[str, ...]:
    for label in namespace:
        if not label or "." in label:
            raise ApiError(422, f"'{key}': namespace label {label!r} must be a non-empty "
                           "string without periods ('.')")
    if writable and not namespace:
        raise ApiError(422, f"'{key}' cannot be empty: give at least one label")
    if writable and namespace[0] == "langgraph":
        raise ApiError(422, f"'{key}': the root label 'langgraph' is reserved")
    return namespace


def _key(body: dict[str, Any]) -> str:
    key = body.get("key")
    if not isinstance(key, str):
        raise ApiError(422, f"'key' is required: a string, got {key!r}")
    return key


async def _authorized(request: Request, action: str, namespace: tuple[str, ...],
                      **value: Any) -> tuple[str, ...]:
    """The namespace to act on once the auth handler for ``store.<action>`` saw the
    request (as in LangGraph, it may change ``value["namespace"]``, e.g. put it under
    the user's id, or refuse)."""
    given: dict[str, Any] = {"namespace": namespace, **value}
    await authorize(request, "store", action, given)
    if given["namespace"] == namespace:
        return namespace
    raw = given["namespace"]
    if not isinstance(raw, tuple | list) or not all(isinstance(x, str) for x in raw):
        raise TypeError(f"the store auth handler set namespace to {raw!r}; set a tuple of "
                        "strings")
    return tuple(raw)


def _item(item: Item) -> dict[str, Any]:
    return item.dict()


async def put_item(request: Request) -> Response:
    store = server_of(request).store
    body = await read_body(request)
    namespace = _namespace(body, "namespace", writable=True)
    key = _key(body)
    value = body.get("value")
    if not isinstance(value, dict):
        raise ApiError(422, f"'value' is required: a JSON object, got {value!r}")
    index = body.get("index")
    if not (index is None or index is False
            or (isinstance(index, list) and all(isinstance(p, str) for p in index))):
        raise ApiError(422, f"'index' must be false or a list of field paths, got {index!r}")
    ttl = body.get("ttl")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float)
                            or ttl <= 0):
        raise ApiError(422, f"'ttl' must be a number of minutes > 0 or null, got {ttl!r}")
    namespace = await _authorized(request, "put", namespace, key=key, value=value,
                                  index=index, ttl=ttl)
    try:
        await store.aput(namespace, key, value, index=index, ttl=ttl)
    except (InvalidNamespaceError, RilletError) as exc:
        raise ApiError(422, str(exc)) from None
    return Response(status_code=204)


def _refresh(raw: Any) -> bool | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ApiError(422, f"'refresh_ttl' must be true or false, got {raw!r}")


async def get_item(request: Request) -> Response:
    store = server_of(request).store
    query = request.query_params
    raw = query.get("namespace")
    if raw is None:
        raise ApiError(422, "'namespace' is required: the labels joined by '.'")
    namespace = _checked(tuple(raw.split(".")) if raw else (), "namespace")
    key = query.get("key")
    if key is None:
        raise ApiError(422, "'key' is required")
    namespace = await _authorized(request, "get", namespace, key=key)
    item = await store.aget(namespace, key, refresh_ttl=_refresh(query.get("refresh_ttl")))
    return json_response(_item(item) if item is not None else None)


async def delete_item(request: Request) -> Response:
    store = server_of(request).store
    body = await read_body(request)
    namespace = _namespace(body, "namespace")
    key = _key(body)
    namespace = await _authorized(request, "delete", namespace, key=key)
    await store.adelete(namespace, key)
    return Response(status_code=204)


async def search_items(request: Request) -> Response:
    store = server_of(request).store
    body = await read_body(request)
    prefix = _namespace(body, "namespace_prefix", required=False)
    query = read_type(body, "query", str)
    prefix = await _authorized(request, "search", prefix, query=query,
                               filter=body.get("filter"))
    try:
        found = await store.asearch(
            prefix, query=query, filter=read_type(body, "filter", dict),
            limit=read_int(body, "limit", 10, 1, 1000),
            offset=read_int(body, "offset", 0, 0, 10**9),
            refresh_ttl=_refresh(body.get("refresh_ttl")),
        )
    except RilletError as exc:  # an unknown filter operator
        raise ApiError(422, f"'filter': {exc}") from None
    return json_response({"items": [_item(item) for item in found]})


async def list_namespaces(request: Request) -> Response:
    store = server_of(request).store
    body = await read_body(request)
    prefix = _wildcards(body, "prefix")
    suffix = _wildcards(body, "suffix")
    max_depth = body.get("max_depth")
    if max_depth is not None:
        max_depth = read_int(body, "max_depth", 0, 1, 10**6)
    prefix = await _authorized(request, "list_namespaces", prefix or (), suffix=suffix,
                               max_depth=max_depth) or None
    found = await store.alist_namespaces(
        prefix=prefix, suffix=suffix, max_depth=max_depth,
        limit=read_int(body, "limit", 100, 0, 1000), offset=read_int(body, "offset", 0, 0, 10**9),
    )
    return json_response({"namespaces": [list(ns) for ns in found]})


def _wildcards(body: dict[str, Any], key: str) -> tuple[str, ...] | None:
    """A namespace pattern (``"*"`` matches any one label), or ``None``."""
    namespace = _namespace(body, key, required=False)
    return namespace or None


ROUTES = [
    Route("/store/items", put_item, methods=["PUT"]),
    Route("/store/items", get_item, methods=["GET"]),
    Route("/store/items", delete_item, methods=["DELETE"]),
    Route("/store/items/search", search_items, methods=["POST"]),
    Route("/store/namespaces", list_namespaces, methods=["POST"]),
]
