"""The closed set of events a run puts on its stream bus.

Producers (the runtime, stream writers, models) create these; the formatter in
``_format.py`` turns the requested ones into LangGraph's output shapes. ``ns`` is the
namespace of the graph that produced the event: ``()`` for the root graph,
``("node:<task id>",)`` inside a subgraph, one entry per level.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

Namespace = tuple[str, ...]


@dataclass(slots=True)
class Event:
    kind: ClassVar[str]
    ns: Namespace
    #: Stamped by the consumer as it takes the event: the run's id, and the event's
    #: place in the run (0, 1, 2, ... in the order the consumer saw them).
    run: str = field(default="", kw_only=True)
    seq: int = field(default=-1, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """The event as plain data (``kind`` first); :func:`rillet._serde.dumps`
        turns it into JSON."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            if not f.metadata:
                out[f.name] = getattr(self, f.name)
        return out


@dataclass(slots=True)
class ValuesEvent(Event):
    """The whole state after a superstep (and after the input)."""

    kind: ClassVar[str] = "values"
    values: Any
    #: The graph's output schema when v2 items build it as a class (pydantic,
    #: dataclass); ``None`` for plain dicts.
    schema: Any = field(default=None, repr=False, metadata={"internal": True})
    #: What the run paused with (the last ``values`` item of a paused run).
    interrupts: tuple[Any, ...] = ()


@dataclass(slots=True)
class UpdatesEvent(Event):
    """One node's update, as it finished."""

    kind: ClassVar[str] = "updates"
    node: str
    update: Any


@dataclass(slots=True)
class CachedUpdatesEvent(UpdatesEvent):
    """A node's update taken from the node cache: the node did not run."""

    cached: bool = True


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
    interrupts: tuple[Any, ...] = ()


@dataclass(slots=True)
class CheckpointEvent(Event):
    """A checkpoint was saved (``checkpoints`` and ``debug`` modes)."""

    kind: ClassVar[str] = "checkpoint"
    step: int
    timestamp: str
    payload: dict[str, Any]


@dataclass(slots=True)
class TaskDoneEvent(Event):
    """A task ended (driver bookkeeping: never shown to the consumer)."""

    kind: ClassVar[str] = "task_done"
    task: Any


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
