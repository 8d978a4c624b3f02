"""Custom authentication and authorization: ``auth.path`` in ``langgraph.json``.

``auth.path`` names a ``langgraph_sdk.Auth`` object (``"./auth.py:auth"``); rillet reads
the handlers it registered, duck-typed (its ``_authenticate_handler``, ``_handlers``
and ``_global_handlers``), so a LangGraph project keeps its ``auth.py`` unchanged and
rillet does not depend on ``langgraph-sdk``.

- :class:`Authenticate` (ASGI middleware) calls the ``@auth.authenticate`` handler on
  every request but ``/ok``, the playground page's files and preflights, passing the
  request parts its parameters name (``authorization``, ``headers``, ``path``,
  ``method``, ``path_params``, ``query_params``, ``request``); the :class:`User` it
  makes goes in the request scope.
  An exception with a ``status_code`` (``Auth.exceptions.HTTPException``) answers that
  status and ``detail``; any other answers 401.
- :func:`authorize` is the hook every route calls before it acts:
  ``filters = await authorize(request, "threads", "read", value)``. It runs the most
  specific handler registered for (resource, action) (then (resource, "*"), ("*",
  action), the global one); the handler may mutate ``value`` (its ``metadata``). ``None``
  or ``True`` allows, ``False`` answers 403, a dict is a filter on the record's metadata
  that :func:`matches` applies (a record it does not match answers 404, searches skip it).
  Without ``auth.path`` the hook returns ``None`` at once.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from rillet.errors import ConfigError
from rillet.server._errors import ApiError
from rillet.server._public import is_public

__all__ = ["AuthContext", "AuthHandlers", "Authenticate", "User", "authorize", "matches"]

Filters = dict[str, Any]


class User:
    """The authenticated user: ``identity``, ``permissions``, ``display_name``,
    ``is_authenticated``, and the fields of the dict the handler returned (``user["x"]``)."""

    def __init__(self, raw: Any) -> None:
        if isinstance(raw, str):
            data: dict[str, Any] = {"identity": raw}
        elif isinstance(raw, Mapping):
            data = dict(raw)
        elif hasattr(raw, "identity"):
            data = {"identity": raw.identity,
                    "permissions": list(getattr(raw, "permissions", []) or [])}
            for name in ("display_name", "is_authenticated"):
                if hasattr(raw, name):
                    data[name] = getattr(raw, name)
        else:
            raise TypeError(f"the authenticate handler returned {raw!r}; return an identity "
                            "string, a dict with 'identity', or an object with .identity")
        if not isinstance(data.get("identity"), str):
            raise TypeError(f"the authenticate handler's user has no 'identity' string: {raw!r}")
        data.setdefault("permissions", [])
        data.setdefault("display_name", data["identity"])
        data.setdefault("is_authenticated", True)
        self._data = data

    identity = property(lambda self: self._data["identity"])
    permissions = property(lambda self: list(self._data["permissions"]))
    display_name = property(lambda self: self._data["display_name"])
    is_authenticated = property(lambda self: bool(self._data["is_authenticated"]))

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        return f"User({self._data!r})"


@dataclass(frozen=True)
class AuthContext:
    """What a handler's ``ctx`` holds, as in LangGraph's ``Auth.types.AuthContext``."""

    user: User
    resource: str
    action: str
    permissions: Sequence[str] = field(default_factory=list)


@dataclass(frozen=True)
class AuthHandlers:
    """The handlers of one ``Auth`` object."""

    authenticate: Callable[..., Any] | None
    handlers: dict[tuple[str, str], Callable[..., Any]]
    global_handler: Callable[..., Any] | None

    @classmethod
    def read(cls, auth: Any, where: str) -> AuthHandlers:
        """The handlers ``auth`` (a ``langgraph_sdk.Auth``) registered.

        :raises ConfigError: if ``auth`` is no ``Auth`` object.
        """
        if not all(hasattr(auth, name) for name in
                   ("_authenticate_handler", "_handlers", "_global_handlers")):
            raise ConfigError(f"auth.path: {where} is not an Auth object (make it with "
                              "'from langgraph_sdk import Auth; auth = Auth()')")
        handlers = {key: fns[-1] for key, fns in dict(auth._handlers).items() if fns}
        globals_ = list(auth._global_handlers)
        return cls(auth._authenticate_handler, handlers, globals_[-1] if globals_ else None)

    def handler_for(self, resource: str, action: str) -> Callable[..., Any] | None:
        for key in ((resource, action), (resource, "*"), ("*", action)):
            if key in self.handlers:
                return self.handlers[key]
        return self.global_handler


async def _call(fn: Callable[..., Any], **kwargs: Any) -> Any:
    result = fn(**kwargs)
    return await result if inspect.isawaitable(result) else result


def _status_of(exc: Exception) -> tuple[int, str] | None:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and 400 <= status < 600:
        return status, str(getattr(exc, "detail", None) or exc)
    return None


class Authenticate:
    """Run the authenticate handler on each request (see the module doc)."""

    def __init__(self, app: ASGIApp, auth: AuthHandlers) -> None:
        self.app, self.auth = app, auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fn = self.auth.authenticate
        if scope["type"] != "http" or is_public(scope["path"]) or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        if fn is None:
            scope["rillet.user"] = User({"identity": "", "is_authenticated": False})
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        parts = {
            "request": request, "path": scope["path"], "method": scope["method"],
            "headers": dict(scope["headers"]), "path_params": scope.get("path_params", {}),
            "query_params": dict(request.query_params),
            "authorization": request.headers.get("authorization"),
        }
        wanted = inspect.signature(fn).parameters
        try:
            raw = await _call(fn, **{name: parts[name] for name in wanted if name in parts})
            scope["rillet.user"] = User(raw)
        except Exception as exc:
            found = _status_of(exc)
            if found is None:  # a bug in the handler: refuse, and say why in the log
                logging.getLogger("rillet.server").exception("the authenticate handler failed")
            status, detail = found or (401, "Unauthorized")
            await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def authorize(request: Request, resource: str, action: str,
                    value: dict[str, Any]) -> Filters | None:
    """Ask the auth handler for (``resource``, ``action``) whether this request may act
    on ``value`` (which it may change); the filter it returns, or ``None``.

    :raises ApiError: 403 if the handler returns ``False``; the status of an
        ``HTTPException`` it raises.
    """
    auth: AuthHandlers | None = getattr(request.app.state, "auth", None)
    if auth is None:
        return None
    fn = auth.handler_for(resource, action)
    if fn is None:
        return None
    user: User = request.scope["rillet.user"]
    ctx = AuthContext(user, resource, action, user.permissions)
    try:
        result = await _call(fn, ctx=ctx, value=value)
    except Exception as exc:
        found = _status_of(exc)
        if found is None:
            raise
        raise ApiError(*found) from exc
    if result is None or result is True:
        return None
    if result is False:
        raise ApiError(403, "Forbidden")
    if isinstance(result, dict):
        return result or None
    raise ApiError(500, f"auth handler for {resource}.{action} returned {result!r}; return "
                   "None, True, False or a filter dict")


def matches(metadata: Mapping[str, Any] | None, filters: Filters | None) -> bool:
    """Whether ``metadata`` passes ``filters``: ``{key: value}`` and ``{key: {"$eq":
    value}}`` want equality, ``{key: {"$contains": item}}`` a list holding ``item`` (or
    all of a list of items)."""
    if not filters:
        return True
    metadata = metadata or {}
    for key, want in filters.items():
        have = metadata.get(key)
        if isinstance(want, dict) and len(want) == 1 and next(iter(want)) in ("$eq",
                                                                                "$contains"):
            op, arg = next(iter(want.items()))
            if op == "$eq":
                if have != arg:
                    return False
            else:
                items = arg if isinstance(arg, list) else [arg]
                if not isinstance(have, list) or not all(item in have for item in items):
                    return False
        elif have != want:
            return False
    return True


def load_auth(spec: Any, base: Any) -> AuthHandlers | None:
    """The handlers of the ``Auth`` object ``auth.path`` names (``None`` without it)."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ConfigError("'auth' must be an object like {\"path\": \"./auth.py:auth\"}")
    path = spec.get("path")
    if path is None:
        return None
    if not isinstance(path, str):
        raise ConfigError("auth.path must be 'path.py:name' or 'package.module:name'")
    from rillet.server._config import load_object

    return AuthHandlers.read(load_object(path, base, "auth.path"), path)
