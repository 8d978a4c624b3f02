from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rillet.channels._base import Channel
from rillet.errors import InvalidUpdateError


class LastValue(Channel):
    """A plain key: keeps the value written last; takes one write per superstep."""

    __slots__ = ()

    def update(self, current: Any, values: Sequence[Any], writers: Sequence[str]) -> Any:
        if len(values) != 1:
            names = ", ".join(repr(w) for w in writers)
            raise InvalidUpdateError(
                f"At key {self.key!r}: {len(values)} nodes wrote to it in the same step "
                f"({names}), but a plain key takes one value per step. Give the key a "
                f"reducer to combine the writes, e.g. Annotated[list, operator.add], or "
                f"let only one of these nodes write it."
            )
        return values[0]
