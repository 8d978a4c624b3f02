"""JSON Schemas of a graph's state, as ``GET /assistants/{id}/schemas`` gives them.

Pydantic models give their own ``model_json_schema()``; TypedDicts and dataclasses
are mapped key by key from their type hints (every key optional with a ``null``
default, as LangGraph's server shows a TypedDict state); a hint with no JSON
equivalent becomes ``{}`` (any value).
"""

from __future__ import annotations

import types
import typing
from typing import Any

__all__ = ["json_schema"]

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean",
            type(None): "null"}


def _hint_schema(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _hint_schema(typing.get_args(hint)[0])
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_hint_schema(arg) for arg in typing.get_args(hint)]}
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(hint))}
    if hint is list or origin is list:
        args = typing.get_args(hint)
        return {"type": "array", "items": _hint_schema(args[0])} if args else {"type": "array"}
    if hint is dict or origin is dict:
        return {"type": "object"}
    return {}


def json_schema(cls: Any, title: str) -> dict[str, Any] | None:
    """A JSON Schema for the state class ``cls``; ``None`` if it has no keys."""
    dump = getattr(cls, "model_json_schema", None)
    if callable(dump):
        schema: dict[str, Any] = dump()
        return schema
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception:  # unresolvable annotations: no schema rather than an error
        return None
    if not hints:
        return None
    properties = {
        key: {"default": None, "title": key.replace("_", " ").title().replace(" ", ""),
              **_hint_schema(hint)}
        for key, hint in hints.items()
    }
    return {"properties": properties, "title": title, "type": "object"}
