"""``rillet.graph.message``: where LangGraph programs import ``add_messages``,
``MessagesState`` and ``REMOVE_ALL_MESSAGES`` from (``langgraph.graph.message``)."""

from rillet.graph._message import MessagesState
from rillet.messages import (
    REMOVE_ALL_MESSAGES,
    AnyMessage,
    Messages,
    RemoveMessage,
    add_messages,
)

__all__ = [
    "REMOVE_ALL_MESSAGES",
    "AnyMessage",
    "Messages",
    "MessagesState",
    "RemoveMessage",
    "add_messages",
]
