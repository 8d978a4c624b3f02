"""JSON for anything a graph, a node or a tool may hand over.

:func:`to_jsonable` turns a value into plain JSON data (dicts with string keys, lists,
strings, finite numbers, booleans, ``None``); :func:`dumps` writes that as one line of
JSON and never raises, whatever the object. The CLI prints graph output with it and
``ToolMessage`` content is made with it, so a set, bytes or ``NaN`` never becomes text
that is not JSON.

What becomes what:

- rillet messages: their ``to_dict()``; dataclasses: their fields; pydantic models:
  ``model_dump()``;
- ``datetime``/``date``/``time``: ISO 8601 strings; ``UUID``, ``Decimal``, paths: ``str()``;
  enums: their value;
- tuples and other sequences: lists; sets: sorted lists (in ``repr`` order when the
  items cannot be compared);
- bytes: their UTF-8 text, or base64 when they are not UTF-8;
- exceptions: ``{"type": "ValueError", "message": "..."}``;
- ``NaN`` and infinities: ``null``;
- dict keys that are not strings: ``1`` -> ``"1"``, ``None`` -> ``"null"`` (as
  :func:`json.dumps` does), other keys their JSON string or their ``repr``;
- anything else, and a container met again inside itself: ``unknown(obj)``
  (``repr`` by default).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import json
import math
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from rillet.messages._base import BaseMessage
from rillet.stream._events import Event

__all__ = ["dumps", "to_jsonable"]

Hook = Callable[[Any], Any]

_MAX_DEPTH = 200
"""Deeper values are cut off with ``unknown`` rather than hitting Python's recursion limit."""


def to_jsonable(obj: Any, *, message: Hook | None = None, unknown: Hook = repr) -> Any:
    """``obj`` as plain JSON data (see the module docstring for each kind).

    ``message`` replaces the ``to_dict()`` of rillet messages (the CLI's brief form
    keeps only type, text and tool calls); ``unknown`` represents objects of no known
    kind. Never raises: a conversion that fails falls back to ``unknown``, and an
    ``unknown`` that fails to ``"<TypeName object>"``.
    """
    return _Converter(message, unknown).convert(obj, 0)


def dumps(
    obj: Any,
    *,
    separators: tuple[str, str] = (",", ":"),
    message: Hook | None = None,
    unknown: Hook = repr,
) -> str:
    """One line of JSON for ``obj`` (``ensure_ascii=False``; compact unless
    ``separators`` says otherwise). Never raises."""
    data = to_jsonable(obj, message=message, unknown=unknown)
    try:
        return json.dumps(data, ensure_ascii=False, separators=separators, allow_nan=False)
    except Exception:  # only a hook returning something odd gets here
        return json.dumps(_opaque(obj), ensure_ascii=False)


class _Converter:
    __slots__ = ("_active", "_message", "_unknown")

    def __init__(self, message: Hook | None, unknown: Hook) -> None:
        self._message = message
        self._unknown = unknown
        self._active: set[int] = set()  # ids of the containers being converted

    def convert(self, obj: Any, depth: int) -> Any:
        if obj is None or obj is True or obj is False:
            return obj
        kind = type(obj)
        if kind is str or kind is int:
            return obj
        if kind is float:
            return obj if math.isfinite(obj) else None
        if depth > _MAX_DEPTH:
            return self._fallback(obj)
        try:
            return self._convert(obj, depth)
        except Exception:
            return self._fallback(obj)

    def _convert(self, obj: Any, depth: int) -> Any:
        if isinstance(obj, enum.Enum):
            return self.convert(obj.value, depth + 1)
        if isinstance(obj, str):
            return str.__str__(obj)
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return self.convert(float(obj), depth)
        if isinstance(obj, bytes | bytearray | memoryview):
            return _bytes(bytes(obj))
        if isinstance(obj, datetime.date | datetime.time):
            return obj.isoformat()
        if isinstance(obj, uuid.UUID | decimal.Decimal | os.PathLike):
            return str(obj)
        if isinstance(obj, BaseException):
            return {"type": type(obj).__name__, "message": str(obj)}
        if isinstance(obj, type):
            return self._fallback(obj)
        if id(obj) in self._active:  # a cycle: the container holds itself
            return self._fallback(obj)
        self._active.add(id(obj))
        try:
            return self._container(obj, depth + 1)
        finally:
            self._active.discard(id(obj))

    def _container(self, obj: Any, depth: int) -> Any:
        if isinstance(obj, BaseMessage):
            form = self._message(obj) if self._message is not None else obj.to_dict()
            return self.convert(form, depth)
        if isinstance(obj, Mapping):
            return {self._key(k): self.convert(v, depth) for k, v in obj.items()}
        if isinstance(obj, AbstractSet):
            return [self.convert(item, depth) for item in _sorted(obj)]
        if isinstance(obj, Sequence):
            return [self.convert(item, depth) for item in obj]
        if isinstance(obj, Event):  # a run's stream event, with its kind
            return self.convert(obj.to_dict(), depth)
        if dataclasses.is_dataclass(obj):
            return {f.name: self.convert(getattr(obj, f.name), depth)
                    for f in dataclasses.fields(obj)}
        dump = getattr(obj, "model_dump", None)
        if callable(dump):
            return self.convert(dump(), depth)
        return self._fallback(obj)

    def _key(self, key: Any) -> str:
        if isinstance(key, str):
            return str.__str__(key)
        if key is None or isinstance(key, bool | int | float):
            return json.dumps(key)  # what json.dumps makes of such a key: "1", "true", "null"
        converted = self.convert(key, _MAX_DEPTH)
        return converted if isinstance(converted, str) else _safe_repr(key)

    def _fallback(self, obj: Any) -> Any:
        try:
            return self._unknown(obj)
        except Exception:
            return _opaque(obj)


def _bytes(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii")


def _sorted(items: AbstractSet[Any]) -> list[Any]:
    try:
        return sorted(items)
    except Exception:  # mixed or unorderable items: an order that is at least stable
        return sorted(items, key=_safe_repr)


def _safe_repr(obj: Any) -> str:
    try:
        return repr(obj)
    except Exception:
        return _opaque(obj)


def _opaque(obj: Any) -> str:
    return f"<{type(obj).__qualname__} object>"
