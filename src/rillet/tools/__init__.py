"""Tools: functions a model can call (``@tool``, ``Tool``)."""

from rillet.errors import ToolArgumentError
from rillet.tools._injected import InjectedToolArg, InjectedToolCallId
from rillet.tools._schema import to_openai_tool
from rillet.tools._tool import Tool, tool

__all__ = [
    "InjectedToolArg",
    "InjectedToolCallId",
    "Tool",
    "ToolArgumentError",
    "to_openai_tool",
    "tool",
]
