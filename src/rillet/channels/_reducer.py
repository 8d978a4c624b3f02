from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rillet.channels._base import MISSING, Channel


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
        for value in values:
            current = value if current is MISSING else reducer(current, value)
        return current
