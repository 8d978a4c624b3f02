"""``rillet.prebuilt.tool_node``: where LangGraph programs import ``ToolNode`` from
(``from langgraph.prebuilt.tool_node import ToolNode, tools_condition``).

The same objects as ``rillet.prebuilt``.
"""

from rillet.prebuilt import InjectedState, InjectedStore, ToolNode, tools_condition

__all__ = ["InjectedState", "InjectedStore", "ToolNode", "tools_condition"]
