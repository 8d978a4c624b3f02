"""Build graphs: ``StateGraph``, ``START``, ``END``, ``MessagesState``, ``add_messages``."""

from rillet._constants import END, START
from rillet.graph._builder import StateGraph
from rillet.graph._compiled import CompiledStateGraph
from rillet.graph._message import MessagesState, add_messages

__all__ = ["END", "START", "CompiledStateGraph", "MessagesState", "StateGraph", "add_messages"]
