"""``Auth``: custom authentication and authorization with ``langgraph_sdk.Auth``'s API,
so an ``auth.py`` works with ``from rillet.server.auth import Auth`` and no langgraph-sdk::

    auth = Auth()

    @auth.authenticate
    async def authenticate(authorization: str | None) -> Auth.types.MinimalUserDict:
        ...  # raise Auth.exceptions.HTTPException(status_code=401) to refuse

    @auth.on                    # every resource and action
    @auth.on.threads            # every action on threads
    @auth.on.threads.create     # one action (also .read .update .delete .search .create_run)
    @auth.on(resources="store", actions=["put"])

A handler is ``(ctx, value)`` (sync or async) returning ``None``/``True`` (allow),
``False`` (403) or a metadata filter dict. The server reads an object of this class and
one of ``langgraph_sdk.Auth`` the same way (see ``_auth``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypedDict, TypeVar

from rillet.server._auth import AuthContext, User

__all__ = ["Auth", "HTTPException", "MinimalUserDict"]

F = TypeVar("F", bound=Callable[..., Any])
_ACTIONS = {
    "threads": ("create", "read", "update", "delete", "search", "create_run"),
    "assistants": ("create", "read", "update", "delete", "search"),
    "crons": ("create", "read", "update", "delete", "search"),
    "store": ("put", "get", "search", "delete", "list_namespaces"),
}


class HTTPException(Exception):  # the name langgraph_sdk gives it
    """Raised by a handler: the request answers ``status_code`` and ``{"detail": detail}``."""

    def __init__(self, status_code: int = 401, detail: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.status_code, self.headers = status_code, headers
        self.detail = detail or ("Unauthorized" if status_code == 401 else "Forbidden"
                                 if status_code == 403 else f"HTTP {status_code}")
        super().__init__(self.detail)


class MinimalUserDict(TypedDict, total=False):
    identity: str
    display_name: str
    is_authenticated: bool
    permissions: Sequence[str]


class _Exceptions:
    HTTPException = HTTPException


class _Types:
    AuthContext = AuthContext
    MinimalUserDict = MinimalUserDict
    User = User


class _Action:
    def __init__(self, auth: Auth, resource: str, action: str) -> None:
        self._auth, self._resource, self._action = auth, resource, action

    def __call__(self, fn: F) -> F:
        self._auth._register(self._resource, self._action, fn)
        return fn


class _Resource:
    """``auth.on.threads``: a decorator for every action, with one attribute per action."""

    def __init__(self, auth: Auth, resource: str) -> None:
        self._auth, self._resource = auth, resource
        for action in _ACTIONS[resource]:
            setattr(self, action, _Action(auth, resource, action))

    def __call__(self, fn: F | None = None, *, actions: str | Sequence[str] | None = None,
                 ) -> Any:
        def register(handler: F) -> F:
            for action in [actions] if isinstance(actions, str) else actions or ["*"]:
                if action != "*" and action not in _ACTIONS[self._resource]:
                    raise ValueError(f"{self._resource} has no action {action!r}; expected "
                                     f"one of {', '.join(_ACTIONS[self._resource])}")
                self._auth._register(self._resource, action, handler)
            return handler

        return register(fn) if fn is not None else register


class _On:
    """``auth.on``: a global handler, ``auth.on(resources=..., actions=...)``, and
    ``auth.on.threads`` / ``.assistants`` / ``.crons`` / ``.store``."""

    def __init__(self, auth: Auth) -> None:
        self._auth = auth
        self.threads = _Resource(auth, "threads")
        self.assistants = _Resource(auth, "assistants")
        self.crons = _Resource(auth, "crons")
        self.store = _Resource(auth, "store")

    def __call__(self, fn: F | None = None, *, resources: str | Sequence[str] | None = None,
                 actions: str | Sequence[str] | None = None) -> Any:
        def register(handler: F) -> F:
            for resource in [resources] if isinstance(resources, str) else resources or ["*"]:
                for action in [actions] if isinstance(actions, str) else actions or ["*"]:
                    self._auth._register(resource, action, handler)
            return handler

        return register(fn) if fn is not None else register


class Auth:
    """Authentication and authorization handlers (see the module doc)."""

    types = _Types
    exceptions = _Exceptions

    def __init__(self) -> None:
        # the attribute names langgraph_sdk.Auth uses: the server reads either class
        self._authenticate_handler: Callable[..., Any] | None = None
        self._handlers: dict[tuple[str, str], list[Callable[..., Any]]] = {}
        self._global_handlers: list[Callable[..., Any]] = []
        self.on = _On(self)

    def authenticate(self, fn: F) -> F:
        """Register the handler that turns a request into a user."""
        if self._authenticate_handler is not None:
            raise ValueError(f"an authenticate handler is set already: "
                             f"{self._authenticate_handler!r}")
        self._authenticate_handler = fn
        return fn

    def _register(self, resource: str, action: str, fn: Callable[..., Any]) -> None:
        if resource == "*" and action == "*":
            if self._global_handlers:
                raise ValueError("a global handler (@auth.on) is set already")
            self._global_handlers.append(fn)
            return
        if (resource, action) in self._handlers:
            raise ValueError(f"a handler for {resource}.{action} is set already")
        self._handlers[(resource, action)] = [fn]
