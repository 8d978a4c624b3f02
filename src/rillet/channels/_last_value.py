from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rillet.channels._base import Channel
from rillet.errors import InvalidUpdateError


class LastValue(Channel):
    """A plain key: keeps the value written last; takes one write per superstep."""

    __slots__ = ()

    def update(self, current: Any, values: Sequence[Any], writers: Sequence[str]) -> Any:
        if len(values) != 1 and len(set(writers)) == 1:
            raise InvalidUpdateError(
                f"At key {self.key!r}: node {writers[0]!r} wrote it {_times(len(values))} in "
                f"the same step, but a plain key takes one value per step. Write it once, "
                f"or give the key a reducer to combine the writes, e.g. "
                f"Annotated[list, operator.add]."
            )
        if len(values) != 1:
            names = ", ".join(repr(w) for w in writers)
            raise InvalidUpdateError(
                f"At key {self.key!r}: {len(values)} nodes wrote to it in the same step "
                f"({names}), but a plain key takes one value per step. Give the key a "
                f"reducer to combine the writes, e.g. Annotated[list, operator.add], or "
                f"let only one of these nodes write it."
            )
        return values[0]


def _times(n: int) -> str:
    return "twice" if n == 2 else f"{n} times"
