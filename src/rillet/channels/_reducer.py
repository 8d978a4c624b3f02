from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rillet.channels._base import MISSING, Channel
from rillet.errors import InvalidUpdateError
from rillet.types import Overwrite


class Reducer(Channel):
    """A key annotated ``Annotated[T, reducer]``: each write is merged with
    ``reducer(current, written)``; writes of one step in task order (by node name,
    then ``Send`` order, as LangGraph applies them)."""

    __slots__ = ("_empty", "reducer")

    def __init__(self, key: str, reducer: Callable[[Any, Any], Any], empty: Any = MISSING) -> None:
        super().__init__(key)
        self.reducer = reducer
        self._empty = empty

    def initial(self) -> Any:
        empty = self._empty
        if empty is MISSING:
            return MISSING
        try:
            return empty()
        except Exception:  # a type that needs arguments has no empty value
            return MISSING

    def update(self, current: Any, values: Sequence[Any], writers: Sequence[str]) -> Any:
        reducer = self.reducer
        seen_overwrite = False
        for value in values:
            replaced = _overwritten(value)
            if replaced is not MISSING:
                if seen_overwrite:
                    raise InvalidUpdateError(
                        f"At key {self.key!r}: two Overwrite values in the same step "
                        f"(a key can receive only one Overwrite value per super-step)."
                    )
                seen_overwrite = True
                current = replaced
            elif not seen_overwrite:
                current = value if current is MISSING else reducer(current, value)
        return current


def _overwritten(value: Any) -> Any:
    """What an ``Overwrite`` (or its dict forms) writes, else ``MISSING``."""
    if isinstance(value, Overwrite):
        return value.value
    if value.__class__ is dict:
        if len(value) == 1 and _OVERWRITE in value:
            return value[_OVERWRITE]
        if value.get("type") == _OVERWRITE and "value" in value:
            return value["value"]
    return MISSING


_OVERWRITE = "__overwrite__"
