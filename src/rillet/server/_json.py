"""The server's one JSON encoder: orjson, with rillet's objects as the API shows them.

Messages become their LangChain-style dicts, ``Interrupt`` ``{"value", "id",
"response_schema"}`` (as LangGraph streams it), other
dataclasses their fields; anything orjson cannot encode goes through
:func:`rillet._serde.to_jsonable`, so encoding never fails on a graph's value.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from rillet._serde import to_jsonable
from rillet.messages._base import BaseMessage
from rillet.types import Interrupt

__all__ = ["dumps", "loads", "plain"]

_OPTS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(obj: Any) -> Any:
    if isinstance(obj, Interrupt):
        return {"value": obj.value, "id": obj.id, "response_schema": obj.response_schema}
    if isinstance(obj, BaseMessage):
        return obj.to_dict()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple):
        return list(obj)
    return to_jsonable(obj)


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes for ``obj``."""
    try:
        return orjson.dumps(obj, default=_default, option=_OPTS)
    except (TypeError, orjson.JSONEncodeError):
        return orjson.dumps(to_jsonable(obj, message=lambda m: m.to_dict()), option=_OPTS)


def plain(obj: Any) -> Any:
    """``obj`` as plain JSON data (what a client would decode)."""
    return orjson.loads(dumps(obj))


loads = orjson.loads
