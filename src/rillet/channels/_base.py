from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Final


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""The value of a key that has never been written."""


class Channel(ABC):
    """The update rule of one state key."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def initial(self) -> Any:
        """The value before any write: ``MISSING`` unless the kind has an empty value."""
        return MISSING

    @abstractmethod
    def update(self, current: Any, values: Sequence[Any], writers: Sequence[str]) -> Any:
        """The new value after one superstep's ``values`` (written by ``writers``, in
        order) were applied to ``current`` (which may be ``MISSING``)."""
