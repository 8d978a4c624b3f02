"""``MessagesState``: a state with a ``messages`` key merged by ``add_messages``."""

from __future__ import annotations

from typing import Annotated, TypedDict

from rillet.messages import AnyMessage, add_messages


class MessagesState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


__all__ = ["MessagesState", "add_messages"]
