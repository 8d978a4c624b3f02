"""Tool arguments the caller fills in, never the model: ``InjectedToolArg`` and kin.

A parameter annotated ``Annotated[T, InjectedToolArg]`` (the class or an instance, or
a subclass such as ``InjectedToolCallId`` or ``rillet.prebuilt.InjectedState``) is
left out of the schema the model sees (``Tool.tool_call_schema``) but kept in
``Tool.args_schema``, as in LangChain. ``ToolNode`` drops any value the model sends
for one, so a model cannot forge it.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, get_args, get_origin

__all__ = ["InjectedToolArg", "InjectedToolCallId", "injected_markers"]

TOOL_CALL_ID_REQUIRED = (
    "When tool includes an InjectedToolCallId argument, tool must always be invoked "
    "with a full model ToolCall of the form: {'args': {...}, 'name': '...', "
    "'type': 'tool_call', 'tool_call_id': '...'}"
)
"""LangChain's words for a tool that needs its call id, invoked without a tool call."""


class InjectedToolArg:
    """Marks a tool argument the caller passes, hidden from the model:
    ``user_id: Annotated[str, InjectedToolArg]``."""


class InjectedToolCallId(InjectedToolArg):
    """Marks the argument that receives the id of the tool call being run:
    ``tool_call_id: Annotated[str, InjectedToolCallId]``. Such a tool must be invoked
    with a tool call (``{"name", "args", "id", "type": "tool_call"}``)."""


class DirectlyInjectedToolArg(InjectedToolArg):
    """A type whose parameters are injected by annotation alone, with no
    ``Annotated`` (``runtime: ToolRuntime``), as LangChain's directly injected args."""


def is_injection(item: Any, kind: type[InjectedToolArg] = InjectedToolArg) -> bool:
    """Whether an ``Annotated`` extra is ``kind`` (the class, a subclass, or an
    instance of one)."""
    return isinstance(item, kind) or (isinstance(item, type) and issubclass(item, kind))


def injected_markers(fn: Callable[..., Any]) -> dict[str, Any]:
    """The parameters of ``fn`` marked with an ``InjectedToolArg``, each with its
    marker (the class or instance found in its ``Annotated[...]``, looked for inside
    ``Optional``/unions too)."""
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
        params = inspect.signature(fn).parameters
    except Exception:  # annotations that do not resolve, or no signature
        return {}
    found: dict[str, Any] = {}
    for name in params:
        marker = _marker(hints.get(name))
        if marker is not None:
            found[name] = marker
    return found


def _marker(annotation: Any) -> Any:
    origin = get_origin(annotation)
    direct = origin if origin is not None else annotation
    if isinstance(direct, type) and issubclass(direct, DirectlyInjectedToolArg):
        return direct
    if origin is typing.Annotated:
        _, *extras = get_args(annotation)
        for extra in extras:
            if is_injection(extra):
                return extra
        return _marker(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for option in get_args(annotation):
            marker = _marker(option)
            if marker is not None:
                return marker
    return None
