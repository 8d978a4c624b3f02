"""``rillet.graph.message``: where LangGraph programs import ``add_messages`` from
(``from langgraph.graph.message import add_messages``).

The same objects as ``rillet.graph`` and ``rillet.messages``.
"""

from rillet.graph._message import MessagesState
from rillet.messages import REMOVE_ALL_MESSAGES, AnyMessage, RemoveMessage, add_messages

__all__ = ["REMOVE_ALL_MESSAGES", "AnyMessage", "MessagesState", "RemoveMessage", "add_messages"]
