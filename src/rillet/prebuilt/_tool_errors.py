"""``handle_tool_errors``: which exceptions ``ToolNode`` turns into messages, and the
message for each, as LangGraph words them."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

from rillet.errors import ConfigError
from rillet.tools._tool import ToolInvocationError

ErrorHandler = (
    bool | str | Callable[..., str] | type[Exception] | tuple[type[Exception], ...]
)

INVALID_TOOL_NAME_ERROR_TEMPLATE = (
    "Error: {requested_tool} is not a valid tool, try one of [{available_tools}]."
)
TOOL_CALL_ERROR_TEMPLATE = "Error: {error}\n Please fix your mistakes."


def default_handle_tool_errors(e: Exception) -> str:
    """LangGraph's default: invalid arguments become a message, other errors raise."""
    if isinstance(e, ToolInvocationError):
        return e.message
    raise e


def error_content(handler: ErrorHandler, exc: Exception) -> Any:
    """The content of the error ``ToolMessage`` for ``exc`` under ``handler``."""
    if isinstance(handler, str):
        return handler
    if callable(handler) and not isinstance(handler, type):
        return handler(exc)
    # True, an exception type or a tuple of them
    return TOOL_CALL_ERROR_TEMPLATE.format(error=repr(exc))


def handled_types(handler: Any) -> tuple[type[Exception], ...]:
    """The exception types ``handle_tool_errors`` turns into messages."""
    if isinstance(handler, bool | str):  # False and "" catch nothing, as in LangGraph
        return (Exception,) if handler else ()
    if isinstance(handler, type) and issubclass(handler, Exception):
        return (handler,)
    if isinstance(handler, tuple) and all(
        isinstance(t, type) and issubclass(t, Exception) for t in handler
    ):
        return handler
    if callable(handler) and not isinstance(handler, type):
        return _annotated_types(handler)
    raise ConfigError(
        f"ToolNode(handle_tool_errors=...) takes a bool, a str, an exception type, a tuple "
        f"of exception types or a function of the exception, got {handler!r}"
    )


def _annotated_types(handler: Callable[..., Any]) -> tuple[type[Exception], ...]:
    """The exception types a handler's first parameter is annotated with (as
    LangGraph infers them), or ``(Exception,)`` without an annotation."""
    try:
        params = list(inspect.signature(handler).parameters.values())
        hints = typing.get_type_hints(handler)
    except Exception:  # no signature, or annotations that do not resolve
        return (Exception,)
    if not params:
        return (Exception,)
    first = params[1] if params[0].name in ("self", "cls") and len(params) == 2 else params[0]
    hint = hints.get(first.name)
    if hint is None:
        return (Exception,)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
    else:
        options = (hint,)
    if all(isinstance(t, type) and issubclass(t, Exception) for t in options):
        return tuple(options)
    raise ConfigError(
        f"ToolNode(handle_tool_errors={handler!r}): annotate the handler's error with an "
        f"exception type or a union of them, such as `def handler(e: ValueError) -> str`; "
        f"got {hint!r}"
    )
