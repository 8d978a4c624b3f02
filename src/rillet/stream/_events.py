"""The closed set of events a run puts on its stream bus.

Producers (the runtime, stream writers, models) create these; the formatter in
``_format.py`` turns the requested ones into LangGraph's output shapes. ``ns`` is the
namespace of the graph that produced the event: ``()`` for the root graph,
``("node:<task id>",)`` inside a subgraph, one entry per level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

Namespace = tuple[str, ...]


@dataclass(slots=True)
class Event:
    kind: ClassVar[str]
    ns: Namespace


@dataclass(slots=True)
class ValuesEvent(Event):
    """The whole state after a superstep (and after the input)."""

    kind: ClassVar[str] = "values"
    values: dict[str, Any]


@dataclass(slots=True)
class UpdatesEvent(Event):
    """One node's update, as it finished."""

    kind: ClassVar[str] = "updates"
    node: str
    update: Any


@dataclass(slots=True)
class CustomEvent(Event):
    """Whatever a node or tool passed to its stream writer."""

    kind: ClassVar[str] = "custom"
    data: Any


@dataclass(slots=True)
class MessageEvent(Event):
    """One message chunk from a model (or a whole message a node returned)."""

    kind: ClassVar[str] = "messages"
    chunk: Any
    metadata: dict[str, Any]


@dataclass(slots=True)
class TaskStartEvent(Event):
    """A task about to run (``tasks`` and ``debug`` modes)."""

    kind: ClassVar[str] = "task"
    step: int
    timestamp: str
    id: str
    name: str
    input: Any
    triggers: tuple[str, ...]


@dataclass(slots=True)
class TaskResultEvent(Event):
    """A task that finished or failed (``tasks`` and ``debug`` modes)."""

    kind: ClassVar[str] = "task_result"
    step: int
    timestamp: str
    id: str
    name: str
    error: BaseException | None
    result: dict[str, Any]


@dataclass(slots=True)
class RunEvent(Event):
    """A lifecycle event for ``astream_events``: ``on_chain_start``, ``on_chat_model_stream``..."""

    kind: ClassVar[str] = "events"
    event: str
    name: str
    run_id: str
    parent_ids: tuple[str, ...]
    tags: tuple[str, ...] | list[str]
    metadata: dict[str, Any]
    data: Any
