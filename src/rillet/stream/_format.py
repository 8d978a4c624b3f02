"""The formatter: the only place that knows LangGraph's output shapes.

``make_formatter`` returns a table from event type to a function giving the item the
consumer sees (or :data:`SKIP`, or :class:`Many` when one event gives two items, as a
task event does when both ``tasks`` and ``debug`` are requested).

Two item shapes, chosen by the call's ``version``: ``"v1"`` (the default) gives the
bare payload, wrapped in ``(mode, ...)`` for a list of modes and ``(ns, ...)`` with
``subgraphs=True``; ``"v2"`` gives every item as ``{"type": mode, "ns": ns, "data":
payload}`` whatever the modes (typed in ``_parts.py``), ``values`` items adding
``"interrupts"`` and building the data as the output schema's class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from rillet.errors import ConfigError
from rillet.stream._events import (
    CachedUpdatesEvent,
    CheckpointEvent,
    CustomEvent,
    Event,
    MessageEvent,
    RunEvent,
    TaskResultEvent,
    TaskStartEvent,
    UpdatesEvent,
    ValuesEvent,
)

STREAM_MODES: Final = (
    "values", "updates", "custom", "messages", "debug", "tasks", "checkpoints"
)


class _Skip:
    __slots__ = ()


SKIP: Final = _Skip()


class Many:
    """Several items from one event."""

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items


Formatter = dict[type[Event], Callable[[Any], Any]]


def normalize_modes(stream_mode: str | Sequence[str] | None) -> tuple[tuple[str, ...], bool]:
    """(modes, multi): check ``stream_mode`` and say whether items carry their mode.

    :raises ValueError: for an unknown mode or an empty list.
    """
    if stream_mode is None:
        return ("updates",), False
    if isinstance(stream_mode, str):
        modes: tuple[str, ...] = (stream_mode,)
        multi = False
    elif isinstance(stream_mode, list | tuple):
        modes = tuple(dict.fromkeys(stream_mode))
        multi = True
        if not modes:
            raise ValueError(
                f"stream_mode=[] asks for nothing: pass one or more of {', '.join(STREAM_MODES)}"
            )
    else:
        raise TypeError(
            f"stream_mode must be a mode name or a list of them, got {type(stream_mode).__name__}"
        )
    for mode in modes:
        if mode not in STREAM_MODES:
            raise ValueError(
                f"Unknown stream mode {mode!r}: choose from {', '.join(STREAM_MODES)}"
            )
    return modes, multi


def check_version(version: object) -> bool:
    """Whether ``version`` asks for v2 items.

    :raises ConfigError: for anything but ``"v1"`` or ``"v2"``.
    """
    if version == "v1":
        return False
    if version == "v2":
        return True
    raise ConfigError(
        f"version must be 'v1' (the default: bare items, as LangGraph's v1) or 'v2' (items "
        f"as {{'type': mode, 'ns': namespace, 'data': ...}}), got {version!r}"
    )


def make_formatter(
    modes: Sequence[str], multi: bool, subgraphs: bool, v2: bool = False
) -> Formatter:
    def shape(mode: str, payload: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if v2:
            return _part(mode, payload)
        if subgraphs and multi:
            return lambda ev: (ev.ns, mode, payload(ev))
        if subgraphs:
            return lambda ev: (ev.ns, payload(ev))
        if multi:
            return lambda ev: (mode, payload(ev))
        return payload

    table: Formatter = {}
    if "values" in modes:
        table[ValuesEvent] = _values_part if v2 else shape("values", _values)
    if "updates" in modes:
        table[UpdatesEvent] = shape("updates", _updates)
        table[CachedUpdatesEvent] = shape("updates", _cached_updates)
    if "custom" in modes:
        table[CustomEvent] = shape("custom", _custom)
    if "messages" in modes:
        table[MessageEvent] = shape("messages", _message)
    task_kinds = (
        (TaskStartEvent, _task_start, "tasks"),
        (TaskResultEvent, _task_result, "tasks"),
        (CheckpointEvent, _checkpoint, "checkpoints"),
    )
    for event_type, task_payload, own_mode in task_kinds:
        parts: list[Callable[[Any], Any]] = []
        if own_mode in modes:
            parts.append(shape(own_mode, task_payload))
        if "debug" in modes:
            parts.append(shape("debug", _debug(task_payload)))
        if len(parts) == 1:
            table[event_type] = parts[0]
        elif parts:
            table[event_type] = _both(*parts)
    return table


def _both(first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any], Many]:
    def both(ev: Any) -> Many:
        return Many([first(ev), second(ev)])

    return both


def _part(mode: str, payload: Callable[[Any], Any]) -> Callable[[Any], dict[str, Any]]:
    def part(ev: Any) -> dict[str, Any]:
        return {"type": mode, "ns": ev.ns, "data": payload(ev)}

    return part


def _values(ev: ValuesEvent) -> Any:
    if ev.interrupts:
        values = ev.values  # a state of one value shows only the interrupts
        extra = {"__interrupt__": ev.interrupts}
        return {**values, **extra} if isinstance(values, dict) else extra
    return ev.values


def _values_part(ev: ValuesEvent) -> dict[str, Any]:
    schema = ev.schema
    data = ev.values if schema is None else schema.as_object(ev.values)
    return {"type": "values", "ns": ev.ns, "data": data, "interrupts": ev.interrupts}


def _updates(ev: UpdatesEvent) -> Any:
    return {ev.node: ev.update}


def _cached_updates(ev: UpdatesEvent) -> Any:
    return {ev.node: ev.update, "__metadata__": {"cached": True}}


def _custom(ev: CustomEvent) -> Any:
    return ev.data


def _message(ev: MessageEvent) -> Any:
    return (ev.chunk, ev.metadata)


def _task_start(ev: TaskStartEvent) -> dict[str, Any]:
    return {"id": ev.id, "name": ev.name, "input": ev.input, "triggers": ev.triggers}


def interrupt_data(one: Any) -> dict[str, Any]:
    """An interrupt as the ``tasks``, ``debug`` and ``checkpoints`` items show it."""
    return {"value": one.value, "id": one.id, "response_schema": one.response_schema}


def _task_result(ev: TaskResultEvent) -> dict[str, Any]:
    return {
        "id": ev.id,
        "name": ev.name,
        "error": ev.error,
        "result": ev.result,
        "interrupts": [interrupt_data(one) for one in ev.interrupts],
    }


def _checkpoint(ev: CheckpointEvent) -> dict[str, Any]:
    return ev.payload


def _debug(payload: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def debug(ev: TaskStartEvent | TaskResultEvent | CheckpointEvent) -> dict[str, Any]:
        return {"step": ev.step, "timestamp": ev.timestamp, "type": ev.kind, "payload": payload(ev)}

    return debug


def event_formatter(
    *,
    include_names: Sequence[str] | None = None,
    include_types: Sequence[str] | None = None,
    include_tags: Sequence[str] | None = None,
    exclude_names: Sequence[str] | None = None,
    exclude_types: Sequence[str] | None = None,
    exclude_tags: Sequence[str] | None = None,
) -> Formatter:
    """The ``astream_events`` (v2) formatter, with LangChain's include/exclude filters.

    The type of an event is the part between ``on_`` and its phase: ``chain``,
    ``chat_model``, ``tool``, ``custom``.
    """
    filters = (include_names, include_types, include_tags, exclude_names, exclude_types,
               exclude_tags)
    if not any(filters):
        return {RunEvent: _event_dict}

    def keep(ev: RunEvent) -> bool:
        kind = ev.event[3:].rsplit("_", 1)[0]
        tags = set(ev.tags)
        if exclude_names and ev.name in exclude_names:
            return False
        if exclude_types and kind in exclude_types:
            return False
        if exclude_tags and tags.intersection(exclude_tags):
            return False
        if include_names is None and include_types is None and include_tags is None:
            return True
        return bool(
            (include_names and ev.name in include_names)
            or (include_types and kind in include_types)
            or (include_tags and tags.intersection(include_tags))
        )

    def filtered(ev: RunEvent) -> Any:
        return _event_dict(ev) if keep(ev) else SKIP

    return {RunEvent: filtered}


def with_stream_items(
    events: Formatter, items: Formatter, name: str, tags: Sequence[str],
    metadata: dict[str, Any],
) -> Formatter:
    """``astream_events(stream_mode=...)``: ``events`` (an :func:`event_formatter`)
    plus each item of the ``items`` table (a :func:`make_formatter`) as the root
    graph's ``on_chain_stream`` event ``{"chunk": item}``, as LangGraph's server reads
    the other stream modes out of one ``astream_events`` run."""
    event = events[RunEvent]

    def chunk_of(fmt: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def as_event(ev: Event) -> Any:
            item = fmt(ev)
            if item is SKIP:
                return SKIP
            many = item.items if item.__class__ is Many else (item,)
            out = [event(RunEvent((), "on_chain_stream", name, ev.run, (), list(tags),
                                  dict(metadata), {"chunk": one})) for one in many]
            out = [one for one in out if one is not SKIP]
            return out[0] if len(out) == 1 else Many(out) if out else SKIP

        return as_event

    table = {kind: chunk_of(fmt) for kind, fmt in items.items()}
    table[RunEvent] = event
    return table


def _event_dict(ev: RunEvent) -> dict[str, Any]:
    return {
        "event": ev.event,
        "name": ev.name,
        "run_id": ev.run_id,
        "parent_ids": list(ev.parent_ids),
        "tags": list(ev.tags),
        "metadata": ev.metadata,
        "data": ev.data,
    }
