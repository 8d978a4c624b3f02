"""Typed shapes of ``version="v2"`` stream items, and of the payloads inside them.

Every v2 item is a dict ``{"type": mode, "ns": namespace, "data": ...}`` (``values``
items also carry ``"interrupts"``): one TypedDict per mode, :data:`StreamPart` their
union, discriminated on ``"type"``. Re-exported from :mod:`rillet.types` under
LangGraph's names; nothing here runs, the formatter (``_format.py``) builds the dicts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Literal, NotRequired, TypeAlias, TypedDict, TypeVar

if TYPE_CHECKING:
    from rillet.types import Interrupt

StateT = TypeVar("StateT")
OutputT = TypeVar("OutputT")

Namespace: TypeAlias = tuple[str, ...]


class TaskPayload(TypedDict):
    """A task about to run (``tasks`` mode)."""

    id: str
    name: str
    input: Any
    triggers: tuple[str, ...]


class TaskResultPayload(TypedDict):
    """A task that finished, failed or paused (``tasks`` mode)."""

    id: str
    name: str
    error: Any
    result: dict[str, Any]
    interrupts: list[Any]


class CheckpointTask(TypedDict):
    """A task of a saved checkpoint (``checkpoints`` mode)."""

    id: str
    name: str
    error: NotRequired[str]
    result: NotRequired[Any]
    interrupts: NotRequired[Any]
    state: Any


class CheckpointPayload(TypedDict, Generic[StateT]):
    """A saved checkpoint (``checkpoints`` mode)."""

    config: dict[str, Any] | None
    metadata: dict[str, Any]
    values: StateT
    next: list[str]
    parent_config: dict[str, Any] | None
    tasks: list[CheckpointTask]


class DebugPayload(TypedDict, Generic[StateT]):
    """A ``debug`` item: a task, a task result or a checkpoint, with step and time."""

    step: int
    timestamp: str
    type: Literal["checkpoint", "task", "task_result"]
    payload: Any


class ValuesStreamPart(TypedDict, Generic[OutputT]):
    """The state after a step (built as the output schema's class); ``interrupts`` holds
    what a paused run stopped with."""

    type: Literal["values"]
    ns: Namespace
    data: OutputT
    interrupts: tuple[Interrupt, ...]


class UpdatesStreamPart(TypedDict):
    """``{node: update}``, or ``{"__interrupt__": (Interrupt, ...)}``."""

    type: Literal["updates"]
    ns: Namespace
    data: dict[str, Any]


class MessagesStreamPart(TypedDict):
    """``(message chunk, metadata)``."""

    type: Literal["messages"]
    ns: Namespace
    data: tuple[Any, dict[str, Any]]


class CustomStreamPart(TypedDict):
    """Whatever a node passed to its stream writer."""

    type: Literal["custom"]
    ns: Namespace
    data: Any


class CheckpointStreamPart(TypedDict, Generic[StateT]):
    type: Literal["checkpoints"]
    ns: Namespace
    data: CheckpointPayload[StateT]


class TasksStreamPart(TypedDict):
    type: Literal["tasks"]
    ns: Namespace
    data: TaskPayload | TaskResultPayload


class DebugStreamPart(TypedDict, Generic[StateT]):
    type: Literal["debug"]
    ns: Namespace
    data: DebugPayload[StateT]


StreamPart: TypeAlias = (
    ValuesStreamPart[Any]
    | UpdatesStreamPart
    | MessagesStreamPart
    | CustomStreamPart
    | CheckpointStreamPart[Any]
    | TasksStreamPart
    | DebugStreamPart[Any]
)
"""Any v2 stream item: narrow it on ``part["type"]``."""
