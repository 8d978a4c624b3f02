"""Conditional edges: a path function and an optional map of its results to nodes."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from rillet._constants import END
from rillet.errors import InvalidRouteError, UsageError
from rillet.types import Send


@dataclass(slots=True)
class BranchSpec:
    source: str
    path: Callable[..., Any]
    name: str
    path_map: dict[Hashable, str] | None
    is_async: bool
    wants_config: bool
    wants_runtime: bool = False
    #: The schema the path function reads (its first parameter's annotation, when
    #: that is a class with annotated keys), as LangGraph infers it; ``None``: it
    #: reads what its source node reads (the state, for START).
    input_schema: Any = None
    #: How the path function reads the values; set by the compiled graph.
    read: Any = None

    def targets(self) -> tuple[str, ...] | None:
        """Every node this branch may go to, when known before running."""
        if self.path_map is None:
            return None
        return tuple(dict.fromkeys(self.path_map.values()))

    def resolve(self, result: Any) -> list[str | Send]:
        """Turn the path function's return value into destinations."""
        items: Sequence[Any] = result if isinstance(result, list | tuple) else (result,)
        out: list[str | Send] = []
        for item in items:
            if isinstance(item, Send):
                out.append(item)
                continue
            if self.path_map is not None:
                try:
                    target = self.path_map[item]
                except (KeyError, TypeError):
                    raise InvalidRouteError(
                        f"The conditional edge {self.name!r} from node {self.source!r} returned "
                        f"{item!r}, which is not a key of its path_map "
                        f"({', '.join(repr(k) for k in self.path_map)})"
                    ) from None
            elif isinstance(item, str):
                target = item
            elif item is None:
                raise InvalidRouteError(
                    f"The conditional edge {self.name!r} from node {self.source!r} returned "
                    f"None: return a node name, END, a Send, or a list of them"
                )
            else:
                raise InvalidRouteError(
                    f"The conditional edge {self.name!r} from node {self.source!r} returned "
                    f"{item!r}: return a node name, END, a Send, or a list of them"
                )
            out.append(target)
        return out


def normalize_path_map(
    source: str, name: str, path_map: dict[Hashable, str] | Sequence[str] | str | None
) -> dict[Hashable, str] | None:
    """``path_map`` as a dict of result -> node: a list, or a single name, maps each
    name to itself.

    :raises UsageError: if it is none of these, or names a node with a non-str.
    """
    if path_map is None:
        return None
    if isinstance(path_map, str):
        pmap: dict[Hashable, Any] = {path_map: path_map}
    elif isinstance(path_map, dict):
        pmap = dict(path_map)
    elif isinstance(path_map, list | tuple):
        pmap = {}
        for target in path_map:
            if not isinstance(target, str):
                raise UsageError(
                    f"add_conditional_edges({source!r}, {name}): path_map lists "
                    f"{target!r}, which is not a node name (str)"
                )
            pmap[target] = target
    else:
        raise UsageError(
            f"add_conditional_edges({source!r}, {name}): path_map must be a dict of "
            f"result -> node name or a list of node names, got {type(path_map).__name__}"
        )
    for key, target in pmap.items():
        if not isinstance(target, str):
            raise UsageError(
                f"add_conditional_edges({source!r}, {name}): path_map[{key!r}] must be a "
                f"node name (str), got {type(target).__name__}: {target!r}"
            )
    return pmap


__all__ = ["END", "BranchSpec", "normalize_path_map"]
