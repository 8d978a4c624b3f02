"""The server's one JSON encoder: orjson, with rillet's objects as the API shows them.

Messages become their LangChain-style dicts, ``Interrupt`` ``{"value", "id",
"response_schema"}`` (as LangGraph streams it), other
dataclasses their fields; anything orjson cannot encode goes through
:func:`rillet._serde.to_jsonable`, so encoding never fails on a graph's value.

Integers beyond 64 bits, which orjson refuses to write and reads as floats, go through
the standard library's ``json`` both ways, so they stay exact.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import orjson

from rillet._serde import to_jsonable
from rillet.messages._base import BaseMessage
from rillet.types import Interrupt

__all__ = ["dumps", "loads", "plain"]

#: A run of 20 digits: maybe an integer orjson would read as a float (beyond 2**64).
_LONG_DIGITS = re.compile(rb"\d{20}")

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
        jsonable = to_jsonable(obj, message=lambda m: m.to_dict())
        try:
            return orjson.dumps(jsonable, option=_OPTS)
        except (TypeError, orjson.JSONEncodeError):  # an integer beyond 64 bits
            return json.dumps(jsonable, ensure_ascii=False, separators=(",", ":"),
                              allow_nan=False).encode()


def loads(data: bytes | str) -> Any:
    """The JSON value of ``data``; ``ValueError`` if it is not JSON (``NaN`` and
    ``Infinity`` are not)."""
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_DIGITS.search(raw) is None:
        return orjson.loads(raw)
    return json.loads(raw, parse_constant=_not_json)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def plain(obj: Any) -> Any:
    """``obj`` as plain JSON data (what a client would decode)."""
    return loads(dumps(obj))
