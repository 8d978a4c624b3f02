"""Helpers for state objects (dataclass and pydantic instances)."""

from __future__ import annotations

import dataclasses
from typing import Any


def object_updates(value: Any, *, all_fields: bool = False) -> dict[str, Any]:
    """The fields of a dataclass or pydantic instance as an update dict."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    fields_set = getattr(value, "model_fields_set", None)
    if fields_set is not None:
        names = type(value).model_fields if all_fields else fields_set
        return {name: getattr(value, name) for name in names}
    raise TypeError(f"{value!r} is not a dataclass or pydantic model instance")
