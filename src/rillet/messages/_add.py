"""``add_messages``: the reducer for a conversation kept in graph state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias, cast
from uuid import uuid4

from rillet.messages._ai import AIMessageChunk, message_chunk_to_message
from rillet.messages._base import REMOVE_ALL_MESSAGES, BaseMessage, RemoveMessage
from rillet.messages._convert import (
    MessageLikeRepresentation,
    _object_kind,
    convert_to_messages,
)

__all__ = ["Messages", "add_messages"]

Messages: TypeAlias = Sequence[MessageLikeRepresentation] | MessageLikeRepresentation
"""One message-like, or a list of them: what either side of ``add_messages`` takes.

A tuple is one ``(role, content)`` pair when it has two items and the first is a
string; any other tuple is a sequence of message-likes.
"""


def add_messages(left: Messages, right: Messages) -> list[BaseMessage]:
    """Merge ``right`` into ``left`` by message id, as LangGraph's ``add_messages``.

    Each side may be one message-like or a list of them (see
    :func:`rillet.messages.to_message`); chunks become complete messages. Messages
    without an id get ``str(uuid4())`` (set on the message objects, as LangGraph
    does). A right message whose id is already present replaces that message in
    place; others are appended. ``RemoveMessage(id=x)`` deletes message ``x``, and
    ``RemoveMessage(id=REMOVE_ALL_MESSAGES)`` deletes everything before it. Returns
    a new list; the input lists are left as they were.

    :raises ValueError: if a ``RemoveMessage`` names an id that is not there.
    """
    left_messages = _coerce(left)
    right_messages = _coerce(right)
    for message in left_messages:
        if message.id is None:
            message.id = str(uuid4())
    remove_all_at = None
    for position, message in enumerate(right_messages):
        if message.id is None:
            message.id = str(uuid4())
        if isinstance(message, RemoveMessage) and message.id == REMOVE_ALL_MESSAGES:
            remove_all_at = position
    if remove_all_at is not None:
        # LangGraph returns the rest of `right` as it is; merging it into nothing
        # gives the same list, and also honours removals and repeats within it.
        left_messages = []
        right_messages = right_messages[remove_all_at + 1 :]
    return _merge(left_messages, right_messages)


def _merge(left: list[BaseMessage], right: list[BaseMessage]) -> list[BaseMessage]:
    merged = list(left)
    position_of = {message.id: i for i, message in enumerate(merged)}
    to_remove: set[str | None] = set()
    for message in right:
        existing = position_of.get(message.id)
        if existing is None:
            if isinstance(message, RemoveMessage):
                raise ValueError(
                    f"Attempting to delete a message with an ID that doesn't exist ('{message.id}')"
                )
            position_of[message.id] = len(merged)
            merged.append(message)
        elif isinstance(message, RemoveMessage):
            to_remove.add(message.id)
        else:
            to_remove.discard(message.id)
            merged[existing] = message
    if to_remove:
        merged = [message for message in merged if message.id not in to_remove]
    return merged


def _coerce(side: Messages) -> list[BaseMessage]:
    items: Sequence[MessageLikeRepresentation]
    if (
        isinstance(side, str | BaseMessage | dict)
        or _is_pair(side)
        or _object_kind(side) is not None  # one foreign (LangChain) message
    ):
        items = [cast("MessageLikeRepresentation", side)]
    else:
        items = cast("Sequence[MessageLikeRepresentation]", side)
    # A long history is all plain messages: check its few distinct types, not each item.
    kinds = set(map(type, items))
    if all(issubclass(k, BaseMessage) and not issubclass(k, AIMessageChunk) for k in kinds):
        return cast("list[BaseMessage]", list(items))
    return [message_chunk_to_message(m) for m in convert_to_messages(items)]


def _is_pair(side: object) -> bool:
    """Whether ``side`` is one ``(role, content)`` message rather than a sequence."""
    return isinstance(side, tuple) and len(side) == 2 and isinstance(side[0], str)
