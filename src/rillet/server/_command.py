"""A run's ``command`` as the API takes it (JSON) and as the graph takes it.

The body's ``command`` is ``{"resume"?, "update"?, "goto"?}``, as LangGraph's SDK
sends it: ``goto`` a node name, a ``Send`` as ``{"node", "input"}``, or a list of
those; ``update`` a dict of state keys or a list of ``[key, value]`` pairs.
:func:`read_command` checks it against the graph when the run is asked for (a 422
that names what is wrong, and no run); :func:`to_command` makes the
:class:`~rillet.types.Command` when the run starts (the run's record keeps the JSON).
"""

from __future__ import annotations

from typing import Any

from rillet.graph import END, CompiledStateGraph
from rillet.server._errors import ApiError
from rillet.types import Command, Send

__all__ = ["read_command", "to_command"]

_KEYS = ("resume", "update", "goto")


def read_command(body: dict[str, Any], graph: CompiledStateGraph) -> dict[str, Any] | None:
    """The body's ``command``, checked: known keys, ``update`` a dict or pairs, ``goto``
    naming nodes of ``graph``.

    :raises ApiError: 422, saying what to change.
    """
    command = body.get("command")
    if command is None:
        return None
    if not isinstance(command, dict):
        raise ApiError(422, f"'command' must be an object with 'resume', 'update' or "
                       f"'goto', got {command!r}")
    unknown = [key for key in command if key not in _KEYS]
    if unknown:
        raise ApiError(422, f"'command' has unknown keys {unknown}; it takes "
                       f"{', '.join(_KEYS)}")
    update = command.get("update")
    if update is not None and not isinstance(update, dict) and not (
        isinstance(update, list)
        and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in update)
    ):
        raise ApiError(422, "'command.update' must be an object of state keys, or a list of "
                       f"[key, value] pairs, got {update!r}")
    for target in _targets(command.get("goto")):
        node = target["node"] if isinstance(target, dict) else target
        if node != END and node not in graph.nodes:
            raise ApiError(422, f"'command.goto' names node {node!r}, which the graph "
                           f"has not; its nodes: {', '.join([*graph.nodes, END])}")
    return command


def _targets(goto: Any) -> list[str | dict[str, Any]]:
    if goto is None:
        return []
    targets = goto if isinstance(goto, list) else [goto]
    for target in targets:
        if isinstance(target, str):
            continue
        if isinstance(target, dict) and isinstance(target.get("node"), str) \
                and set(target) <= {"node", "input"}:
            continue
        raise ApiError(422, "'command.goto' must be a node name, a Send as "
                       f'{{"node": name, "input": value}}, or a list of them, got {target!r}')
    return targets


def to_command(command: dict[str, Any]) -> Command[Any]:
    """The graph's :class:`Command` for a checked API ``command``."""
    update = command.get("update")
    if isinstance(update, list):
        update = [tuple(pair) for pair in update]
    targets = [Send(t["node"], t.get("input")) if isinstance(t, dict) else t
               for t in _targets(command.get("goto"))]
    return Command(resume=command.get("resume"), update=update, goto=targets)
