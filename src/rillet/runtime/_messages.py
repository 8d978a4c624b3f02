"""``messages`` mode for messages that nodes return rather than stream.

LangGraph streams a message a node puts in its update once, unless a model already
streamed it (same id) or it came in with the node's input. A run keeps the ids it has
seen in :attr:`StreamSettings.seen_message_ids`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from rillet.messages import BaseMessage, to_message
from rillet.runtime._context import Task
from rillet.stream._events import MessageEvent


def _is_message(value: Any) -> bool:
    from rillet.messages._convert import _object_kind

    return isinstance(value, BaseMessage) or _object_kind(value) is not None


def _messages_in(value: Any) -> Iterator[Any]:
    """Message objects in an update or input: rillet's, or foreign (LangChain's)."""
    if _is_message(value):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            if _is_message(item):
                yield item
    elif isinstance(value, dict):
        for item in value.values():
            if _is_message(item):
                yield item
            elif isinstance(item, list | tuple):
                yield from (m for m in item if _is_message(m))


def mark_input_seen(task: Task) -> None:
    """Input messages are never re-streamed when a node returns them again."""
    seen = task.run.settings.seen_message_ids
    for message in _messages_in(task.input):
        if message.id is not None:
            seen.add(message.id)


def emit_output_messages(task: Task, writes: list[tuple[str, Any]]) -> None:
    seen = task.run.settings.seen_message_ids
    metadata: dict[str, Any] | None = None
    for _, value in writes:
        for message in _messages_in(value):
            if message.id is None:
                message.id = str(uuid.uuid4())
            elif message.id in seen:
                continue
            seen.add(message.id)
            if metadata is None:
                metadata = task.message_metadata()
                del metadata["checkpoint_ns"]
            if not isinstance(message, BaseMessage):
                message = to_message(message)  # stream rillet's type, same id
            task.run.put(MessageEvent(task.run.ns, message, metadata))
