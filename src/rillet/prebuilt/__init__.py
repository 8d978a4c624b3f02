"""Prebuilt graphs and nodes: ``create_react_agent``, ``ToolNode``, ``tools_condition``."""

from rillet.prebuilt._react import create_react_agent
from rillet.prebuilt._tool_node import ToolNode, tools_condition

__all__ = ["ToolNode", "create_react_agent", "tools_condition"]
